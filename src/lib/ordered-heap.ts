/**
 * A binary heap ordered by a comparator: `peek()` is the item `compare` ranks first. MinHeap (min-heap.ts) is the
 * timers' numeric-key form of it; records ordered by several fields use it directly, e.g. to keep the n smallest of
 * a stream (a page of a list) with a heap whose top is the largest kept, or to sort in slices one push at a time.
 */
export class OrderedHeap<T> {
  private items: T[] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const h = this.items;
    let i = h.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.compare(h[parent]!, item) <= 0) break;
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
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && this.compare(h[r]!, h[l]!) < 0 ? r : l;
        if (this.compare(h[c]!, last) >= 0) break;
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
