import fc from 'fast-check';
import t from 'tap';
import { OrderedHeap } from '../../src/lib/ordered-heap.js';

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

t.test('items come out in the comparator order, whatever the order they went in', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.string()), (items) => {
      const heap = new OrderedHeap<string>(byText);
      for (const s of items) heap.push(s);
      const out: string[] = [];
      while (heap.size > 0) out.push(heap.pop()!);
      return JSON.stringify(out) === JSON.stringify([...items].sort(byText));
    }),
  );
  t.pass('sorted like Array.prototype.sort');
});

t.test('a reversed comparator keeps the n smallest with the largest on top (a page selection)', async (t) => {
  const heap = new OrderedHeap<number>((a, b) => b - a);
  const values = [40, 7, 93, 15, 2, 66, 8, 31];
  for (const v of values) {
    if (heap.size < 3) heap.push(v);
    else if (v < heap.peek()!) {
      heap.pop();
      heap.push(v);
    }
  }
  t.equal(heap.peek(), 8, 'the largest of the three smallest is on top');
  t.same([heap.pop(), heap.pop(), heap.pop()], [8, 7, 2]);
  t.equal(heap.pop(), undefined, 'empty');
});
