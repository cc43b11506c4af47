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

/** A NOTIFY as the pacer sees it: whether it holds a slot of the window. */
export interface PacedNotify {
  /** True while the NOTIFY out holds a slot of the send window. */
  holdsSlot: boolean;
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

export interface NotifyPacerOptions<F extends PacedNotify> {
  clock: Clock;
  /** NOTIFY transactions in flight at once (default DEFAULT_NOTIFY_WINDOW). */
  window?: number;
  /** Notifies one watcher of a change being spread (a watcher with a NOTIFY out coalesces and takes no slot). */
  notify(rec: LiveSubscription): void;
  /** Sends a NOTIFY that waited for room (`defer`). */
  send(flight: F): void;
}

/**
 * The global send window (DEFAULT_NOTIFY_WINDOW) and the queue behind it: first NOTIFYs and whole resource changes
 * waiting for room, oldest first. The notifier asks it for room before it sends, tells it when a NOTIFY takes and
 * gives back a slot, and it calls back to send what waited.
 */
export class NotifyPacer<F extends PacedNotify> {
  /** NOTIFYs handed to the transaction layer and not yet settled. */
  private active = 0;
  /** First NOTIFYs and whole resource changes waiting for room in the window, oldest first. */
  private readonly waiting = new Fifo<F | FanOut>();
  /** FanOut entries in `waiting`. */
  private changes = 0;
  private readonly window: number;
  /** When each slot-holding NOTIFY gives its slot back if still unanswered. */
  private readonly slotRelease: DeadlineQueue<F>;
  private stopped = false;

  constructor(private readonly opts: NotifyPacerOptions<F>) {
    this.window = opts.window ?? DEFAULT_NOTIFY_WINDOW;
    this.slotRelease = new DeadlineQueue(opts.clock, (flight) => {
      this.release(flight);
      this.pump();
    });
  }

  /** Resource changes waiting whole (one each, however many watchers they will reach). */
  get queuedChanges(): number {
    return this.changes;
  }

  /** True when a new NOTIFY must wait (`defer`) rather than go now. */
  get full(): boolean {
    return this.active >= this.window;
  }

  /** Spreads a change to the watchers behind what already waits, in arrival order; as far as the window allows, the rest queued whole. */
  fanOut(watchers: Iterator<LiveSubscription>, events: readonly string[]): void {
    const fanOut: FanOut = { watchers, events };
    if (this.waiting.length === 0 && this.spread(fanOut)) return;
    this.waiting.push(fanOut);
    this.changes++;
  }

  /** Queues a first NOTIFY until the window has room; `send` gets it then. */
  defer(flight: F): void {
    this.waiting.push(flight);
  }

  /** A NOTIFY was handed to the transaction layer: it holds a slot until answered or NOTIFY_SLOT_HOLD_MS. */
  take(flight: F): void {
    this.active++;
    flight.holdsSlot = true;
    this.slotRelease.schedule(flight, this.opts.clock.now() + NOTIFY_SLOT_HOLD_MS);
  }

  /** Gives the NOTIFY's slot back (answered, or held too long); a no-op when it holds none. */
  release(flight: F): void {
    if (!flight.holdsSlot) return;
    flight.holdsSlot = false;
    this.active--;
    this.slotRelease.cancel(flight);
  }

  /** Sends what waits, oldest first, while the window has room. */
  pump(): void {
    while (this.active < this.window && this.waiting.length > 0 && !this.stopped) {
      const head = this.waiting.peek()!;
      if ('watchers' in head) {
        if (!this.spread(head)) return;
        this.waiting.shift();
        this.changes--;
        continue;
      }
      this.waiting.shift();
      this.opts.send(head);
    }
  }

  /** Stops the slot timers; nothing waiting is sent any more. */
  stop(): void {
    this.stopped = true;
    this.slotRelease.clear();
  }

  /**
   * Sends a change to its watchers until the window is full (a watcher with a NOTIFY out takes no slot: the change
   * coalesces behind it). True when every watcher has been reached.
   */
  private spread(fanOut: FanOut): boolean {
    for (;;) {
      if (this.active >= this.window) return false;
      const next = fanOut.watchers.next();
      if (next.done) return true;
      const rec = next.value;
      if (fanOut.events.includes(rec.event)) this.opts.notify(rec);
    }
  }
}
