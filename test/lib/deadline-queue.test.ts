import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { DeadlineQueue } from '../../src/lib/deadline-queue.js';

t.test('keys fire once, in due order, with a single live timer however many are scheduled', (t) => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  const q = new DeadlineQueue<string>(clock, (k) => fired.push(`${k}@${clock.now()}`));
  for (let i = 0; i < 1000; i++) q.schedule(`k${i}`, 10_000 + ((i * 7919) % 1000));
  t.equal(clock.pending, 1, 'one clock timer for 1,000 deadlines');
  clock.advance(10_999);
  t.equal(fired.length, 1000);
  const times = fired.map((f) => Number(f.split('@')[1]));
  t.same(times, [...times].sort((a, b) => a - b), 'in due order');
  t.equal(q.size, 0);
  t.end();
});

t.test('rescheduling moves a deadline and cancel removes it', (t) => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  const q = new DeadlineQueue<string>(clock, (k) => fired.push(k));
  q.schedule('a', 100);
  q.schedule('b', 200);
  q.schedule('a', 300);
  q.cancel('b');
  clock.advance(250);
  t.same(fired, [], 'a moved later, b cancelled');
  t.equal(q.dueAt('a'), 300);
  clock.advance(50);
  t.same(fired, ['a']);
  t.notOk(q.has('a'));
  t.end();
});

t.test('a callback may schedule its key again', (t) => {
  const clock = new ManualClock(0);
  let count = 0;
  const q = new DeadlineQueue<string>(clock, (k) => {
    if (++count < 3) q.schedule(k, clock.now() + 10);
  });
  q.schedule('x', 10);
  clock.advance(100);
  t.equal(count, 3);
  t.end();
});

t.test('an earlier deadline re-arms the timer earlier', (t) => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  const q = new DeadlineQueue<string>(clock, (k) => fired.push(`${k}@${clock.now()}`));
  q.schedule('late', 1000);
  q.schedule('early', 10);
  clock.advance(10);
  t.same(fired, ['early@10']);
  clock.advance(990);
  t.same(fired, ['early@10', 'late@1000']);
  t.end();
});
