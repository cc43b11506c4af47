import type { Clock, TimerHandle } from '../../lib/clock.js';
import { Fifo } from '../../lib/fifo.js';
import { batchSpan, fifoDeadline, nextWake } from './timer-queue.js';

interface Batch {
  /** The deadline of its last key: every key waits at least the full duration, at most a batch longer. */
  at: number;
  readonly firstAt: number;
  readonly keys: string[];
}

/**
 * Client transactions in Completed, by key only, until Timer K ends them (RFC 3261 §17.1.2.2: T4 on UDP). All that
 * state does is absorb retransmissions of the final response, and the key is enough for that: the transaction
 * object and a timer entry per NOTIFY, kept for T4 = 5 s, were about a third of what a 100 PUBLISH/s fan-out
 * promoted out of V8's young generation (bench/README.md, seventh round). Every key waits the same duration, so
 * they fall due in the order they came: batches in a FIFO, one clock timer for the oldest. Keys falling due within a
 * batch span of a batch's first one join it, and wake-ups are batched as in timer-queue.ts.
 */
export class CompletedKeys {
  private readonly batches = new Fifo<Batch>();
  private tail: Batch | undefined;
  private armed: TimerHandle | undefined;
  private lastWake = -Infinity;
  private readonly batchMs: number;
  private readonly fire = (): void => this.onClock();

  /** `expire` is called with each key whose time is up. */
  constructor(
    private readonly ms: number,
    private readonly clock: Clock,
    private readonly expire: (key: string) => void,
  ) {
    this.batchMs = batchSpan(ms);
  }

  add(key: string): void {
    const now = this.clock.now();
    const tail = this.tail;
    const at = fifoDeadline(tail?.at, now, this.ms);
    if (tail !== undefined && at - tail.firstAt < this.batchMs) {
      tail.keys.push(key);
      tail.at = at;
      return;
    }
    const batch: Batch = { at, firstAt: at, keys: [key] };
    this.batches.push(batch);
    this.tail = batch;
    if (this.armed === undefined) this.arm(now);
  }

  /** Forgets every key without expiring it (the layer is closing) and disarms the timer. */
  clear(): void {
    while (this.batches.shift() !== undefined);
    this.tail = undefined;
    this.armed?.cancel();
    this.armed = undefined;
  }

  private arm(now: number): void {
    const at = nextWake(this.batches.peek()!.at, this.lastWake, now, this.batchMs);
    this.armed = this.clock.setTimer(Math.max(0, at - now), this.fire);
  }

  private onClock(): void {
    this.armed = undefined;
    const now = this.clock.now();
    for (let b = this.batches.peek(); b !== undefined && b.at <= now; b = this.batches.peek()) {
      this.batches.shift();
      if (b === this.tail) this.tail = undefined;
      // Only a wake-up that let keys go counts for the batching: one that came before its batch grew is no reason to
      // hold that batch a further batchMs.
      this.lastWake = now;
      for (const key of b.keys) this.expire(key);
    }
    if (this.batches.length > 0) this.arm(now);
  }
}
