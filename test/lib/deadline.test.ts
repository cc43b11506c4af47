import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { withDeadline } from '../../src/lib/deadline.js';

t.test('withDeadline: the work\'s value in time; the late error once the clock passes the deadline; a non-Error rejection made an Error', async (t) => {
  const clock = new ManualClock();
  t.equal(await withDeadline(clock, Promise.resolve(7), 100, () => new Error('late')), 7);

  const never = new Promise<number>(() => {});
  const late = withDeadline(clock, never, 100, () => new Error('no answer within 100 ms'));
  clock.advance(99);
  clock.advance(1);
  await t.rejects(late, { message: 'no answer within 100 ms' });

  await t.rejects(withDeadline(clock, Promise.reject('down'), 100, () => new Error('late')), { message: 'down' });
});
