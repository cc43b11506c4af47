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

t.test('200,000 shifts from a 200,000-long fifo finish at once (Array#shift is linear: minutes)', async (t) => {
  // Counted in element moves would need internals; instead: 200,000 shifts from a 200,000-long queue must finish,
  // which with a linear shift is ~2·10^10 element moves (minutes), here a few milliseconds.
  const q = new Fifo<object>();
  for (let i = 0; i < 200_000; i++) q.push({ i });
  let n = 0;
  while (q.shift() !== undefined) n++;
  t.equal(n, 200_000);
});
