import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';

/** What a queued timer calls when it falls due: the transaction itself, told which of its timers it was. */
export interface TimerTarget {
  onTimer(kind: number): void;
}

/** One scheduled timer: a node of its queue's doubly linked list, so cancelling is O(1) and leaves nothing behind. */
export class TimerEntry {
  prev: TimerEntry | undefined = undefined;
  next: TimerEntry | undefined = undefined;
  constructor(
    readonly at: number,
    readonly target: TimerTarget,
    readonly kind: number,
    readonly queue: TimerQueue,
  ) {}
}

/** Longest a queued timer may run late so that its neighbours share one wake-up (Kamailio's timer ticks every 62.5 ms). */
const MAX_BATCH_MS = 50;

/** How late a timer of this fixed duration may fire to share a wake-up: 1/64 of it, at most MAX_BATCH_MS. */
export function batchSpan(ms: number): number {
  return Math.min(MAX_BATCH_MS, Math.floor(ms / 64));
}

/**
 * The deadline of a timer scheduled now behind `tailAt` (the newest deadline, if any): now + ms, unless a wall clock
 * that stepped back would put it before its predecessor's; FIFO order is the invariant.
 */
export function fifoDeadline(tailAt: number | undefined, now: number, ms: number): number {
  return tailAt !== undefined && tailAt > now + ms ? tailAt : now + ms;
}

/** When to wake for the oldest deadline `headAt`: at it, but not sooner than one batch after the last wake-up. */
export function nextWake(headAt: number, lastWake: number, now: number, batchMs: number): number {
  // min(): a wall clock that stepped back must not hold the queue until it catches up with the last wake-up.
  return Math.max(headAt, Math.min(lastWake, now) + batchMs);
}

/**
 * Timers that all share one duration. Every deadline is now + the same duration, so they fall due in the order they
 * were scheduled: a FIFO list with one clock timer armed for its head replaces one clock timer (and closure) per
 * transaction. RFC 3261 Timers F, J and K and the server guard each have a fixed duration per layer; Timer E has a
 * few (T1, 2·T1, … T2), one queue each. Time comes only from the injected Clock.
 *
 * A queue wakes at most once per `batchMs` (1/64 of its duration, at most 50 ms): a timer fires at its deadline when
 * the queue has been quiet, else up to `batchMs` late together with its neighbours. Without that, a queue fed at
 * 1,000 transactions a second woke hundreds of times a second to end one or two of them each time (strace of a
 * server in the seconds after 10,000 SUBSCRIBEs: ~550 epoll wake-ups a second, ~100 of them the metrics timer of
 * main.ts; ~60 with the batching and that timer at 100 ms).
 */
export class TimerQueue {
  private head: TimerEntry | undefined;
  private tail: TimerEntry | undefined;
  private armed: TimerHandle | undefined;
  private lastWake = -Infinity;
  readonly batchMs: number;
  private readonly fire = (): void => this.onClock();

  constructor(
    readonly ms: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.batchMs = batchSpan(ms);
  }

  schedule(target: TimerTarget, kind: number): TimerEntry {
    const now = this.clock.now();
    const entry = new TimerEntry(fifoDeadline(this.tail?.at, now, this.ms), target, kind, this);
    if (this.tail === undefined) {
      this.head = entry;
      this.tail = entry;
      this.arm(now);
    } else {
      entry.prev = this.tail;
      this.tail.next = entry;
      this.tail = entry;
    }
    return entry;
  }

  /** Removes a timer that has not fired yet; a queue left empty disarms its clock timer. */
  cancel(entry: TimerEntry): void {
    if (entry.prev === undefined && this.head !== entry) return; // fired or cancelled already
    this.unlink(entry);
    if (this.head === undefined && this.armed !== undefined) {
      this.armed.cancel();
      this.armed = undefined;
    }
  }

  private unlink(e: TimerEntry): void {
    if (e.prev) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = undefined;
    e.next = undefined;
  }

  private arm(now: number): void {
    const at = nextWake(this.head!.at, this.lastWake, now, this.batchMs);
    this.armed = this.clock.setTimer(Math.max(0, at - now), this.fire);
  }

  /** Fires every entry that is due; entries scheduled by those callbacks wait for a later turn. */
  private onClock(): void {
    this.armed = undefined;
    const now = this.clock.now();
    this.lastWake = now;
    const last = this.tail;
    for (let e = this.head; e !== undefined && e.at <= now; e = this.head) {
      this.unlink(e);
      try {
        e.target.onTimer(e.kind);
      } catch (err) {
        this.logger.error({ err: (err as Error).message, stack: (err as Error).stack }, 'transaction timer callback threw');
      }
      if (e === last) break;
    }
    if (this.head !== undefined && this.armed === undefined) this.arm(now);
  }
}

/** The layer's queues, one per duration, made on first use. */
export class TimerQueues {
  private readonly queues = new Map<number, TimerQueue>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  schedule(ms: number, target: TimerTarget, kind: number): TimerEntry {
    let q = this.queues.get(ms);
    if (q === undefined) {
      q = new TimerQueue(ms, this.clock, this.logger);
      this.queues.set(ms, q);
    }
    return q.schedule(target, kind);
  }
}
