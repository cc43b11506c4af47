import type { Clock } from '../lib/clock.js';
import { DeadlineQueue } from '../lib/deadline-queue.js';
import { Fifo } from '../lib/fifo.js';
import type { LiveSubscription } from './live-subscription.js';

/**
 * NOTIFY transactions in flight at once, all subscriptions together. A fan-out of 10,000 NOTIFYs sent at once over
 * UDP overruns socket buffers and Timer E (500 ms) fires before the answers are read, so retransmissions pile onto
 * the load; a window keeps each answer inside T1 and the rest wait in order, coalescing as they wait.
 */
export const DEFAULT_NOTIFY_WINDOW = 512;

/**
 * A NOTIFY unanswered after this long gives its window slot back (it stays in flight, with its own timers): a dead
 * watcher's NOTIFY waits up to Timer F (32 s) and must not hold back the live watchers behind it.
 */
export const NOTIFY_SLOT_HOLD_MS = 1000;

/**
 * The slots one source may hold at once: all but a quarter of the window (384 of 512). One source's unanswered
 * NOTIFYs (20,000 subscriptions that never answer, issue 19) can then never fill the window, so another source's
 * NOTIFY finds a slot at once; a lone source, such as the one proxy in front of every phone, still gets most of it.
 */
export function defaultSourceShare(window: number): number {
  return Math.max(1, window - Math.floor(window / 4));
}

/** A NOTIFY as the pacer sees it: whether it holds a slot of the window, and whose share that slot counts against. */
export interface PacedNotify {
  /** True while the NOTIFY out holds a slot of the send window. */
  holdsSlot: boolean;
  /** The source whose share the held slot counts against; set by the pacer (`take`). */
  slotSource?: string | undefined;
}

/**
 * A resource change not yet spread to its watchers, queued whole while the send window is full: each watcher is
 * reached when the queue gets to it. Queuing one entry per watcher made a PUBLISH cost ~3 µs per watcher (a Flight and
 * a map entry each), so a burst of changes to widely watched lines kept the event loop from reading the answers.
 * The iterator is over the live watcher set: a watcher removed meanwhile is skipped, one added meanwhile is reached.
 */
interface FanOut {
  watchers: Iterator<LiveSubscription>;
  events: readonly string[];
}

/** One source's part of the window: the slots it holds and its NOTIFYs waiting for room, oldest first. */
interface Lane {
  readonly source: string;
  held: number;
  readonly waiting: Fifo<unknown>;
  /** In the round-robin ring (it has NOTIFYs waiting and room in its share). */
  queued: boolean;
}

/** The round-robin ring's entry for the resource changes waiting whole (they span every source). */
const CHANGES = Symbol('changes');

export interface NotifyPacerOptions<F extends PacedNotify> {
  clock: Clock;
  /** NOTIFY transactions in flight at once (default DEFAULT_NOTIFY_WINDOW). */
  window?: number;
  /** Slots one source may hold at once (default defaultSourceShare(window)). */
  sourceShare?: number;
  /** The source a NOTIFY is paced as: its watcher's address (the notifier: the SUBSCRIBE flow's remote address). */
  sourceOf(flight: F): string;
  /** Notifies one watcher of a change being spread (a watcher with a NOTIFY out coalesces and takes no slot). */
  notify(rec: LiveSubscription): void;
  /** Sends a NOTIFY that waited for room (`defer`). */
  send(flight: F): void;
}

/**
 * The send window (DEFAULT_NOTIFY_WINDOW), shared fairly between sources (issue 19: one source's unanswered NOTIFYs
 * must not delay another's). Each source holds at most its share of the slots, and what waits is served round-robin:
 * each source with NOTIFYs waiting sends one in turn, and the resource changes waiting whole (oldest first) take one
 * turn between them, so a source with 20,000 NOTIFYs queued delays another source's NOTIFY by one turn, not by 20,000.
 * The notifier asks it for room before it sends (`hasRoom`), tells it when a NOTIFY takes and gives back a slot, and it
 * calls back to send what waited.
 */
export class NotifyPacer<F extends PacedNotify> {
  /** NOTIFYs handed to the transaction layer and not yet settled. */
  private active = 0;
  /** Sources holding slots or with NOTIFYs waiting; a lane goes when it has neither. */
  private readonly lanes = new Map<string, Lane>();
  /** Whole resource changes waiting for room, oldest first. */
  private readonly changes = new Fifo<FanOut>();
  /** Whose turn is next: lanes with NOTIFYs waiting and room in their share, and CHANGES while changes wait. */
  private readonly ring = new Fifo<Lane | typeof CHANGES>();
  private changesQueued = false;
  private readonly window: number;
  private readonly share: number;
  /** When each slot-holding NOTIFY gives its slot back if still unanswered. */
  private readonly slotRelease: DeadlineQueue<F>;
  private stopped = false;

  constructor(private readonly opts: NotifyPacerOptions<F>) {
    this.window = opts.window ?? DEFAULT_NOTIFY_WINDOW;
    this.share = Math.max(1, Math.min(this.window, opts.sourceShare ?? defaultSourceShare(this.window)));
    this.slotRelease = new DeadlineQueue(opts.clock, (flight) => {
      this.release(flight);
      this.pump();
    });
  }

  /** Resource changes waiting whole (one each, however many watchers they will reach). */
  get queuedChanges(): number {
    return this.changes.length;
  }

  /** True when the window is full: nobody's NOTIFY may go now. */
  get full(): boolean {
    return this.active >= this.window;
  }

  /**
   * Whether a NOTIFY to this source may go now (else it must wait: `defer`): room in the window and in its share, and
   * none of its NOTIFYs waiting already (they go first, in the order they were queued).
   */
  hasRoom(source: string): boolean {
    if (this.active >= this.window) return false;
    const lane = this.lanes.get(source);
    return lane === undefined || (lane.held < this.share && lane.waiting.length === 0);
  }

  /** Slots held by one source now (for tests and metrics). */
  heldBy(source: string): number {
    return this.lanes.get(source)?.held ?? 0;
  }

  /** Spreads a change to the watchers behind what already waits; as far as the window allows, the rest queued whole. */
  fanOut(watchers: Iterator<LiveSubscription>, events: readonly string[]): void {
    const fanOut: FanOut = { watchers, events };
    if (this.ring.length === 0 && this.changes.length === 0 && this.spread(fanOut, Infinity)) return;
    this.changes.push(fanOut);
    if (!this.changesQueued) {
      this.changesQueued = true;
      this.ring.push(CHANGES);
    }
  }

  /** Queues a NOTIFY until its source has room; `send` gets it then. */
  defer(flight: F): void {
    const lane = this.lane(this.opts.sourceOf(flight));
    lane.waiting.push(flight);
    this.enqueue(lane);
  }

  /** A NOTIFY was handed to the transaction layer: it holds a slot until answered or NOTIFY_SLOT_HOLD_MS. */
  take(flight: F): void {
    const source = this.opts.sourceOf(flight);
    this.active++;
    this.lane(source).held++;
    flight.holdsSlot = true;
    flight.slotSource = source;
    this.slotRelease.schedule(flight, this.opts.clock.now() + NOTIFY_SLOT_HOLD_MS);
  }

  /** Gives the NOTIFY's slot back (answered, or held too long); a no-op when it holds none. */
  release(flight: F): void {
    if (!flight.holdsSlot) return;
    flight.holdsSlot = false;
    this.active--;
    this.slotRelease.cancel(flight);
    const lane = this.lanes.get(flight.slotSource!);
    flight.slotSource = undefined;
    if (!lane) return;
    lane.held--;
    if (lane.waiting.length > 0) this.enqueue(lane);
    else this.forget(lane);
  }

  /** Sends what waits, a turn each, while the window has room. */
  pump(): void {
    while (this.active < this.window && this.ring.length > 0 && !this.stopped) {
      const turn = this.ring.shift()!;
      if (turn === CHANGES) {
        this.changeTurn();
        continue;
      }
      turn.queued = false;
      // Out of the ring while its share is used up; a slot it gives back puts it in again (release).
      if (turn.held >= this.share) continue;
      const flight = turn.waiting.shift() as F;
      this.opts.send(flight);
      if (turn.waiting.length > 0) this.enqueue(turn);
      else this.forget(turn);
    }
  }

  /** Stops the slot timers; nothing waiting is sent any more. */
  stop(): void {
    this.stopped = true;
    this.slotRelease.clear();
  }

  /** The oldest waiting change reaches watchers until one NOTIFY has taken a slot; it keeps a turn while changes wait. */
  private changeTurn(): void {
    const head = this.changes.peek()!;
    if (this.spread(head, 1)) this.changes.shift();
    if (this.changes.length > 0) this.ring.push(CHANGES);
    else this.changesQueued = false;
  }

  /**
   * Sends a change to its watchers until `slots` NOTIFYs have taken a slot or the window is full. A watcher with a
   * NOTIFY out takes no slot (the change coalesces behind it), nor does one whose source has used its share (its
   * NOTIFY waits in that source's lane). True when every watcher has been reached.
   */
  private spread(fanOut: FanOut, slots: number): boolean {
    const until = this.active + slots;
    for (;;) {
      if (this.active >= this.window || this.active >= until) return false;
      const next = fanOut.watchers.next();
      if (next.done) return true;
      const rec = next.value;
      if (fanOut.events.includes(rec.event)) this.opts.notify(rec);
    }
  }

  private lane(source: string): Lane {
    let lane = this.lanes.get(source);
    if (!lane) {
      lane = { source, held: 0, waiting: new Fifo<unknown>(), queued: false };
      this.lanes.set(source, lane);
    }
    return lane;
  }

  /** Puts a lane with NOTIFYs waiting in the ring, unless it is there or its share is used up. */
  private enqueue(lane: Lane): void {
    if (lane.queued || lane.held >= this.share) return;
    lane.queued = true;
    this.ring.push(lane);
  }

  private forget(lane: Lane): void {
    if (lane.held === 0 && lane.waiting.length === 0 && !lane.queued) this.lanes.delete(lane.source);
  }
}
