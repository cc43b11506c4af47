import t from 'tap';
import { ManualClock } from '../../../src/lib/clock.js';
import { CompletedKeys } from '../../../src/sip/transaction/completed-keys.js';

const T4 = 5000;

function rig() {
  const clock = new ManualClock();
  const expired: string[] = [];
  const keys = new CompletedKeys(T4, clock, (key) => expired.push(key));
  return { clock, expired, keys };
}

t.test('a completed key is kept for Timer K = T4, then let go (RFC 3261 §17.1.2.2)', async (t) => {
  const { clock, expired, keys } = rig();
  keys.add('a');
  clock.advance(T4 - 1);
  t.same(expired, [], 'still absorbing at T4 - 1 ms');
  clock.advance(1);
  t.same(expired, ['a'], 'gone at T4');
  t.equal(clock.pending, 0, 'no timer left once empty');
});

t.test('keys falling due within one batch share a wake-up and each waits at least T4 (RFC 3261 §17.1.2.2)', async (t) => {
  const { clock, expired, keys } = rig();
  keys.add('a');
  clock.advance(10);
  keys.add('b');
  t.equal(clock.pending, 1, 'one clock timer for the batch');
  clock.advance(T4 - 10);
  t.same(expired, [], "at a's T4 the batch still waits for b's");
  clock.advance(10);
  t.same(expired, ['a', 'b'], 'both go together at the later deadline');
});

t.test('keys go in the order they came, one batch per wake-up, with later batches re-armed', async (t) => {
  const { clock, expired, keys } = rig();
  keys.add('a');
  clock.advance(100);
  keys.add('b');
  clock.advance(100);
  keys.add('c');
  clock.advance(T4 - 200);
  t.same(expired, ['a']);
  clock.advance(100);
  t.same(expired, ['a', 'b']);
  clock.advance(100);
  t.same(expired, ['a', 'b', 'c']);
  t.equal(clock.pending, 0);
});

t.test('clear() forgets every key without expiring any and disarms the timer', async (t) => {
  const { clock, expired, keys } = rig();
  keys.add('a');
  keys.add('b');
  keys.clear();
  t.equal(clock.pending, 0);
  clock.advance(2 * T4);
  t.same(expired, []);
  keys.add('c');
  clock.advance(T4);
  t.same(expired, ['c'], 'usable again after clear()');
});

t.test('1,000 completions a second are let go in batches: about one wake-up per 50 ms, not one per key', async (t) => {
  const clock = new ManualClock();
  const wakes = new Set<number>();
  const batched = new CompletedKeys(T4, clock, () => wakes.add(clock.now()));
  for (let i = 0; i < 1000; i++) {
    batched.add(`k${i}`);
    clock.advance(1);
  }
  clock.advance(T4 + 100);
  t.ok(wakes.size >= 19 && wakes.size <= 22, `${wakes.size} wake-ups for 1,000 keys over 1 s`);
});
