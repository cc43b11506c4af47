import t from 'tap';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { TimerQueues } from '../../../src/sip/transaction/timer-queue.js';

function recorder(clock: ManualClock) {
  const fired: [string, number][] = [];
  const target = (name: string) => ({ onTimer: (kind: number) => fired.push([`${name}/${kind}`, clock.now()]) });
  return { fired, target };
}

t.test('queued timers of one duration fire at their own deadlines in scheduling order (RFC 3261 §17.1.2.2 Timer F, §17.2.2 Timer J)', async (t) => {
  const clock = new ManualClock(0);
  const q = new TimerQueues(clock, silentLogger);
  const r = recorder(clock);
  q.schedule(32_000, r.target('a'), 1);
  clock.advance(100);
  q.schedule(32_000, r.target('b'), 1);
  clock.advance(60);
  q.schedule(32_000, r.target('c'), 2);
  clock.advance(31_839);
  t.same(r.fired, [], 'nothing before the first deadline');
  clock.advance(1);
  t.same(r.fired, [['a/1', 32_000]]);
  clock.advance(1000);
  t.same(r.fired, [['a/1', 32_000], ['b/1', 32_100], ['c/2', 32_160]]);
  t.equal(clock.pending, 0, 'an empty queue leaves no clock timer');
});

t.test('timers falling due less than a batch after the last wake-up fire together, at most a batch late (RFC 3261 §17.1.2.2 Timer K)', async (t) => {
  const clock = new ManualClock(0);
  const wakes: number[] = [];
  const setTimer = clock.setTimer.bind(clock);
  clock.setTimer = (ms, fn) => setTimer(ms, () => (wakes.push(clock.now()), fn()));
  const q = new TimerQueues(clock, silentLogger);
  const r = recorder(clock);
  // 1,000 transactions a second ending in Timer K (T4 = 5 s): one every millisecond for one second.
  const first = q.schedule(5000, r.target('k0'), 0);
  t.equal(first.queue.batchMs, 50, '1/64 of 5 s, capped at 50 ms');
  for (let i = 1; i < 1000; i++) {
    clock.advance(1);
    q.schedule(5000, r.target(`k${i}`), 0);
  }
  clock.advance(10_000);
  t.equal(r.fired.length, 1000, 'every timer fired');
  t.ok(wakes.length <= 21, `${wakes.length} wake-ups for 1,000 timers (one per 50 ms)`);
  const late = r.fired.map(([name, at]) => at - (5000 + Number(name.split('/')[0]!.slice(1))));
  t.ok(Math.min(...late) >= 0, 'none fired early');
  t.ok(Math.max(...late) <= 50, `none more than 50 ms late (latest ${Math.max(...late)} ms)`);
  t.same(r.fired.map(([name]) => name), r.fired.map((_, i) => `k${i}/0`), 'in scheduling order');
  t.equal(wakes[0], 5000, 'the first fires on its deadline: the queue had been quiet');
});

t.test('a short queue batches over 1/64 of its duration: Timer E at T1 is at most 7 ms late (RFC 3261 §17.1.2.2)', async (t) => {
  const clock = new ManualClock(0);
  const q = new TimerQueues(clock, silentLogger);
  const r = recorder(clock);
  const a = q.schedule(500, r.target('a'), 0);
  t.equal(a.queue.batchMs, 7);
  clock.advance(1);
  q.schedule(500, r.target('b'), 0);
  clock.advance(1000);
  t.same(r.fired, [['a/0', 500], ['b/0', 507]]);
});

t.test('a cancelled queued timer never fires, and the others keep their deadlines (RFC 3261 §17.2.2)', async (t) => {
  const clock = new ManualClock(0);
  const q = new TimerQueues(clock, silentLogger);
  const r = recorder(clock);
  const a = q.schedule(1000, r.target('a'), 0);
  clock.advance(100);
  const b = q.schedule(1000, r.target('b'), 0);
  clock.advance(100);
  q.schedule(1000, r.target('c'), 0);
  a.queue.cancel(a);
  b.queue.cancel(b);
  b.queue.cancel(b); // twice is harmless
  clock.advance(5000);
  t.same(r.fired, [['c/0', 1200]]);
  const d = q.schedule(1000, r.target('d'), 0);
  d.queue.cancel(d);
  t.equal(clock.pending, 0, 'cancelling the only timer disarms the clock');
  clock.advance(5000);
  t.equal(r.fired.length, 1);
});

t.test('a timer scheduled from a firing callback waits its full duration (RFC 3261 §17.1.2.2 Timer E)', async (t) => {
  const clock = new ManualClock(0);
  const q = new TimerQueues(clock, silentLogger);
  const times: number[] = [];
  const target = {
    onTimer: () => {
      times.push(clock.now());
      if (times.length < 4) q.schedule(4000, target, 0);
    },
  };
  q.schedule(4000, target, 0);
  clock.advance(20_000);
  t.same(times, [4000, 8000, 12000, 16000]);
});

t.test('a callback that throws does not stop the other due timers', async (t) => {
  const clock = new ManualClock(0);
  const q = new TimerQueues(clock, silentLogger);
  const r = recorder(clock);
  q.schedule(10, { onTimer: () => { throw new Error('boom'); } }, 0);
  q.schedule(10, r.target('b'), 0);
  clock.advance(10);
  t.same(r.fired, [['b/0', 10]]);
});
