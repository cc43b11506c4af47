import t from 'tap';
import { extent } from '../../bench/load/run-context.js';

t.test('extent finds the smallest and largest of a burst-sized list (300,000 log times: too many to spread into Math.max)', async (t) => {
  const times = Array.from({ length: 300_000 }, (_, i) => 1_795_867_909 + ((i * 7919) % 300_000) / 1000);
  t.throws(() => Math.max(...times), RangeError, 'spreading this many arguments overflows the stack');
  t.same(extent(times), { min: 1_795_867_909, max: 1_795_867_909 + 299.999 });
});

t.test('extent of nothing is null, of one value is that value twice', async (t) => {
  t.equal(extent([]), null);
  t.same(extent([42]), { min: 42, max: 42 });
  t.same(extent(new Set([3, -1, 2])), { min: -1, max: 3 }, 'any iterable');
});
