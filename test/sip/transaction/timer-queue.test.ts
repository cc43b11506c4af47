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
  clock.advance(10);
  q.schedule(32_000, r.target('b'), 1);
  clock.advance(5);
  q.schedule(32_000, r.target('c'), 2);
  clock.advance(31_984);
  t.same(r.fired, [], 'nothing before the first deadline');
  clock.advance(1);
  t.same(r.fired, [['a/1', 32_000]]);
  clock.advance(100);
  t.same(r.fired, [['a/1', 32_000], ['b/1', 32_010], ['c/2', 32_015]]);
  t.equal(clock.pending, 0, 'an empty queue leaves no clock timer');
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
