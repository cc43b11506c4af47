import type { Clock } from './clock.js';
import { MinHeap } from './min-heap.js';
import { WakeTimer } from './wake-timer.js';

/** What the wheel needs on each item: the slot it is filed under (-1: none). The item carries it to save a map. */
export interface WheelItem {
  wheelSlot: number;
}

/**
 * Many long deadlines (subscription expiries: 100,000 of them, minutes to hours away), one timer: items are filed in
 * buckets of `resolutionMs` and a bucket is handed over when its end has passed, so a deadline fires up to
 * `resolutionMs` late, never early. An item costs one array slot; moving or cancelling it only rewrites its
 * `wheelSlot`, and the stale entry is skipped when its bucket comes up.
 */
export class ExpiryWheel<T extends WheelItem> {
  private readonly buckets = new Map<number, T[]>();
  /** Slot numbers that have a bucket, smallest first. */
  private readonly order = new MinHeap<number>((slot) => slot);
  private readonly timer: WakeTimer;

  /**
   * @param onDue called once for each item whose bucket came up, in bucket order; its slot is already cleared, so
   *   the callback may schedule it again (e.g. when its real deadline moved later).
   */
  constructor(
    private readonly clock: Clock,
    private readonly resolutionMs: number,
    private readonly onDue: (item: T) => void,
  ) {
    this.timer = new WakeTimer(clock, () => this.fire());
  }

  /** Files (or moves) `item` for deadline `at` (ms epoch). */
  schedule(item: T, at: number): void {
    const slot = Math.ceil(at / this.resolutionMs);
    if (item.wheelSlot === slot) return;
    item.wheelSlot = slot;
    let bucket = this.buckets.get(slot);
    if (!bucket) {
      bucket = [];
      this.buckets.set(slot, bucket);
      this.order.push(slot);
    }
    bucket.push(item);
    this.arm();
  }

  cancel(item: T): void {
    item.wheelSlot = -1;
  }

  clear(): void {
    this.buckets.clear();
    this.order.clear();
    this.timer.cancel();
  }

  private fire(): void {
    const current = Math.floor(this.clock.now() / this.resolutionMs);
    for (let slot = this.order.peek(); slot !== undefined && slot <= current; slot = this.order.peek()) {
      this.order.pop();
      const bucket = this.buckets.get(slot)!;
      this.buckets.delete(slot);
      for (const item of bucket) {
        if (item.wheelSlot !== slot) continue; // moved or cancelled since it was filed here
        item.wheelSlot = -1;
        this.onDue(item);
      }
    }
    this.arm();
  }

  private arm(): void {
    const next = this.order.peek();
    if (next !== undefined) this.timer.wakeBy(next * this.resolutionMs);
  }
}
