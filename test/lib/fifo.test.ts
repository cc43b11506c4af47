import t from 'tap';
import { Fifo } from '../../src/lib/fifo.js';

t.test('a fifo gives items back in the order they were pushed, across compactions', async (t) => {
  const q = new Fifo<number>();
  t.equal(q.shift(), undefined, 'empty');
  const out: number[] = [];
  let next = 0;
  // Interleave pushes and shifts so the head passes the compaction threshold several times with items left behind.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 300; i++) q.push(next++);
    for (let i = 0; i < 200; i++) out.push(q.shift()!);
  }
  t.equal(q.length, 50 * 100);
  while (q.length > 0) out.push(q.shift()!);
  t.equal(out.length, next);
  t.ok(out.every((v, i) => v === i), 'every item once, in push order');
  t.equal(q.shift(), undefined, 'empty again');
  q.push(7);
  t.equal(q.length, 1);
  t.equal(q.shift(), 7, 'usable after running empty');
});

t.test('peek shows the oldest item without taking it', async (t) => {
  const q = new Fifo<string>();
  t.equal(q.peek(), undefined, 'empty');
  q.push('a');
  q.push('b');
  t.equal(q.peek(), 'a');
  t.equal(q.peek(), 'a', 'still there');
  t.equal(q.length, 2);
  t.equal(q.shift(), 'a');
  t.equal(q.peek(), 'b');
});
