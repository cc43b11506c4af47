/** Below this many taken slots the array is not worth compacting. */
const COMPACT_MIN = 1024;

/**
 * A first-in first-out queue with O(1) amortised push and shift. `Array#shift` moves every remaining element: the
 * notifier's queue of 100,000 NOTIFYs waiting for the send window spent 13 s of a 61 s profile shifting. Taken slots
 * are cleared at once (so their items can be collected) and the array is compacted when they are at least half of it.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= COMPACT_MIN && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
