import t from 'tap';
import { setNewest } from '../../src/lib/bounded-map.js';

t.test('setNewest: a key set again becomes the newest, and beyond the bound the oldest entry goes', async (t) => {
  const m = new Map<string, number>();
  setNewest(m, 'a', 1, 3);
  setNewest(m, 'b', 2, 3);
  setNewest(m, 'c', 3, 3);
  setNewest(m, 'a', 4, 3); // moved to the end, nothing dropped
  t.strictSame([...m], [['b', 2], ['c', 3], ['a', 4]]);
  setNewest(m, 'd', 5, 3);
  t.strictSame([...m], [['c', 3], ['a', 4], ['d', 5]], 'b, now the oldest, is dropped');
});
