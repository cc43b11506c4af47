import t from 'tap';
import { MinHeap } from '../../src/lib/min-heap.js';

t.test('items come out smallest key first, whatever the order they went in', async (t) => {
  const heap = new MinHeap<{ at: number; name: string }>((e) => e.at);
  const keys = [50, 3, 99, 3, 42, 7, 0, 64, 18, 7];
  keys.forEach((at, i) => heap.push({ at, name: `e${i}` }));
  t.equal(heap.size, keys.length);
  t.equal(heap.peek()!.at, 0);
  const out: number[] = [];
  for (let e = heap.pop(); e; e = heap.pop()) out.push(e.at);
  t.same(out, [...keys].sort((a, b) => a - b));
  t.equal(heap.pop(), undefined, 'empty');
});

t.test('clear empties the heap', async (t) => {
  const heap = new MinHeap<number>((n) => n);
  for (const n of [3, 1, 2]) heap.push(n);
  heap.clear();
  t.equal(heap.size, 0);
  t.equal(heap.peek(), undefined);
});
