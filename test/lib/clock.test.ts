import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';

t.test('ManualClock fires due timers in due order, including ones scheduled while advancing', (t) => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  clock.setTimer(100, () => {
    fired.push('a@' + clock.now());
    clock.setTimer(50, () => fired.push('c@' + clock.now()));
  });
  clock.setTimer(120, () => fired.push('b@' + clock.now()));
  const cancelled = clock.setTimer(130, () => fired.push('never'));
  cancelled.cancel();
  clock.advance(149);
  t.same(fired, ['a@100', 'b@120']);
  clock.advance(1);
  t.same(fired, ['a@100', 'b@120', 'c@150']);
  t.equal(clock.pending, 0);
  t.end();
});
