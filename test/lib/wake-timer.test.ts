import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { WakeTimer } from '../../src/lib/wake-timer.js';

t.test('a wake timer fires once, by the earliest time asked for; later asks do not delay or re-arm it', async (t) => {
  const clock = new ManualClock(1_000_000);
  const woke: number[] = [];
  const timer = new WakeTimer(clock, () => woke.push(clock.now()));
  timer.wakeBy(1_000_500);
  timer.wakeBy(1_000_900);
  t.equal(clock.pending, 1, 'one clock timer');
  timer.wakeBy(1_000_200);
  clock.advance(1000);
  t.same(woke, [1_000_200], 'fired once, at the earliest');
  t.equal(clock.pending, 0);
});

t.test('a cancelled wake timer does not fire and can be armed again', async (t) => {
  const clock = new ManualClock(0);
  let count = 0;
  const timer = new WakeTimer(clock, () => count++);
  timer.wakeBy(100);
  timer.cancel();
  clock.advance(200);
  t.equal(count, 0);
  timer.wakeBy(300);
  clock.advance(100);
  t.equal(count, 1);
});
