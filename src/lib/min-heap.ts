/**
 * A binary min-heap ordered by a numeric key, for the timer structures of this folder (deadline queue, expiry
 * wheel): push and pop are O(log n), the smallest item is `peek()`.
 */
export class MinHeap<T> {
  private items: T[] = [];

  constructor(private readonly keyOf: (item: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const h = this.items;
    const key = this.keyOf(item);
    let i = h.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keyOf(h[parent]!) <= key) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = item;
  }

  pop(): T | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      const key = this.keyOf(last);
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && this.keyOf(h[r]!) < this.keyOf(h[l]!) ? r : l;
        if (this.keyOf(h[c]!) >= key) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  clear(): void {
    this.items = [];
  }
}
