import fc from 'fast-check';
import t from 'tap';
import { isArrayIndex, ownKeyOrder } from '../../src/lib/own-key-order.js';

t.test('array indices are the canonical decimal integers below 2^32 - 1 (ECMA-262 6.1.7)', async (t) => {
  for (const key of ['0', '7', '1001', '4294967294']) t.ok(isArrayIndex(key), key);
  for (const key of ['', '-1', '01', '00', '1.5', '1e3', ' 1', '+1', '4294967295', '99999999999', '*3101', 'alice', '１']) {
    t.notOk(isArrayIndex(key), JSON.stringify(key));
  }
});

t.test('ownKeyOrder is the order Object.keys (and so JSON.stringify) gives an object built key by key', async (t) => {
  const key = fc.oneof(
    fc.nat({ max: 5000 }).map(String),
    fc.constantFrom('0', '01', '4294967294', '4294967295', '-1', '1.5', '*3101', 'park', 'Park'),
    fc.string({ maxLength: 4 }).filter((s) => s !== '__proto__'),
  );
  fc.assert(
    fc.property(fc.array(key, { maxLength: 40 }), (keys) => {
      const obj: Record<string, number> = {};
      const firstSeen: string[] = [];
      keys.forEach((k, i) => {
        if (!Object.hasOwn(obj, k)) firstSeen.push(k);
        obj[k] = i;
      });
      return JSON.stringify(ownKeyOrder(firstSeen)) === JSON.stringify(Object.keys(obj));
    }),
    { numRuns: 500 },
  );
  t.pass('same order on random keys');
});
