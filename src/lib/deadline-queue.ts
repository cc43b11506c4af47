import type { Clock } from './clock.js';
import { MinHeap } from './min-heap.js';
import { WakeTimer } from './wake-timer.js';

/**
 * Many deadlines, one timer: a binary min-heap of (due time, key) with at most one live clock timer, armed for the
 * earliest entry. 100,000 subscription expiries cost one pending timer instead of 100,000 (issue: "timer management").
 * Rescheduling a key replaces its deadline; stale heap entries are skipped lazily when they surface.
 */
export class DeadlineQueue<K> {
  private heap = new MinHeap<{ at: number; key: K; gen: number }>((e) => e.at);
  /** Current generation per key: a heap entry whose generation differs is stale. */
  private live = new Map<K, { at: number; gen: number }>();
  private gen = 0;
  private readonly timer: WakeTimer;

  /**
   * @param onDue called once per key whose deadline has passed, in due order; the key is already removed, so the
   *   callback may schedule it again.
   */
  constructor(
    private readonly clock: Clock,
    private readonly onDue: (key: K) => void,
  ) {
    this.timer = new WakeTimer(clock, () => this.fire());
  }

  get size(): number {
    return this.live.size;
  }

  has(key: K): boolean {
    return this.live.has(key);
  }

  dueAt(key: K): number | undefined {
    return this.live.get(key)?.at;
  }

  /** Sets (or moves) the deadline of `key` to `at` (ms epoch). */
  schedule(key: K, at: number): void {
    const gen = ++this.gen;
    this.live.set(key, { at, gen });
    this.heap.push({ at, key, gen });
    this.arm();
  }

  cancel(key: K): void {
    this.live.delete(key);
    // The heap entry becomes stale; it is dropped when it reaches the top. Compact if stale entries dominate.
    if (this.heap.size > 1024 && this.heap.size > 4 * this.live.size) this.rebuild();
  }

  clear(): void {
    this.live.clear();
    this.heap.clear();
    this.timer.cancel();
  }

  private fire(): void {
    const now = this.clock.now();
    for (;;) {
      const top = this.heap.peek();
      if (!top || top.at > now) break;
      this.heap.pop();
      const current = this.live.get(top.key);
      if (!current || current.gen !== top.gen) continue;
      this.live.delete(top.key);
      this.onDue(top.key);
    }
    this.arm();
  }

  private arm(): void {
    // Drop stale entries at the top so the timer is armed for a live deadline.
    for (let top = this.heap.peek(); top; top = this.heap.peek()) {
      const current = this.live.get(top.key);
      if (current && current.gen === top.gen) break;
      this.heap.pop();
    }
    const top = this.heap.peek();
    if (top) this.timer.wakeBy(top.at);
    else this.timer.cancel();
  }

  private rebuild(): void {
    this.heap.clear();
    for (const [key, { at, gen }] of this.live) this.heap.push({ at, key, gen });
  }
}
