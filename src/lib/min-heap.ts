import { OrderedHeap } from './ordered-heap.js';

/**
 * A binary min-heap ordered by a numeric key, for the timer structures of this folder (deadline queue, expiry
 * wheel): push and pop are O(log n), the smallest item is `peek()`.
 */
export class MinHeap<T> extends OrderedHeap<T> {
  constructor(keyOf: (item: T) => number) {
    super((a, b) => keyOf(a) - keyOf(b));
  }
}
