import t from 'tap';
import { runInIdleSlices, TimeSlicer } from '../../src/lib/idle-slices.js';
import { pollUntil } from '../support/poll-until.js';
import { countLoopTurns } from '../support/loop-turns.js';

const busy = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

t.test('idle slices run every step once, in order, then resolve done', async (t) => {
  const seen: number[] = [];
  const run = runInIdleSlices(50, (i) => seen.push(i), 5);
  t.same(seen, [], 'nothing runs before the caller returns to the event loop');
  await run.done;
  t.same(seen, Array.from({ length: 50 }, (_, i) => i));
});

t.test('the event loop gets a turn between slices: work queued meanwhile runs before the last step', async (t) => {
  const order: string[] = [];
  const run = runInIdleSlices(6, (i) => {
    busy(3);
    order.push(`step${i}`);
  }, 5);
  // Queued while the first slice is pending: it must run after the first slice, long before the last step.
  setImmediate(() => setImmediate(() => order.push('other')));
  await run.done;
  const other = order.indexOf('other');
  t.ok(other > 0 && other < order.length - 1, `other work ran between slices (${order.join(',')})`);
});

t.test('stop ends the run early and resolves done', async (t) => {
  let steps = 0;
  const run = runInIdleSlices(1_000_000, () => {
    steps++;
    busy(1);
  }, 2);
  await new Promise((r) => setImmediate(r));
  run.stop();
  await run.done;
  const after = steps;
  await new Promise((r) => setTimeout(r, 20));
  t.equal(steps, after, 'no step after stop');
  t.ok(steps < 1_000_000);
});

t.test('while busy() answers true no step runs; the run goes on once it answers false', async (t) => {
  let busyNow = true;
  let asked = 0;
  const seen: number[] = [];
  const run = runInIdleSlices(20, (i) => seen.push(i), 5, {
    busy: () => {
      asked++;
      return busyNow;
    },
    retryMs: 5,
  });
  // The retries are real timers: a loaded machine (CI beside other work) stretched a fixed 40 ms sleep past them.
  await pollUntil(() => asked >= 2, 2000);
  t.same(seen, [], 'nothing ran while busy');
  t.ok(asked >= 2, `asked again after each wait (${asked} times)`);
  busyNow = false;
  await run.done;
  t.same(seen, Array.from({ length: 20 }, (_, i) => i), 'every step, in order, once quiet');
});

t.test('stop while waiting for quiet resolves done; nothing is asked or run after it', async (t) => {
  let steps = 0;
  let asked = 0;
  const run = runInIdleSlices(10, () => steps++, 5, { busy: () => (asked++, true), retryMs: 5 });
  await new Promise((r) => setTimeout(r, 15));
  run.stop();
  await run.done;
  const askedAtStop = asked;
  t.ok(askedAtStop >= 1, 'it was waiting');
  await new Promise((r) => setTimeout(r, 30));
  t.equal(asked, askedAtStop, 'no retry after stop');
  t.equal(steps, 0);
});

t.test('TimeSlicer: due once its slice is used up; pause gives the event loop a turn and starts a new slice', async (t) => {
  const slicer = new TimeSlicer(5);
  t.notOk(slicer.due(), 'a fresh slice is not used up');
  busy(6);
  t.ok(slicer.due(), 'used up after its length');
  let other = false;
  setImmediate(() => (other = true));
  await slicer.pause();
  t.ok(other, 'work queued before the pause ran during it');
  t.notOk(slicer.due(), 'a new slice after the pause');
});

t.test('TimeSlicers take turns: one slice per turn of the event loop, in the order they paused', async (t) => {
  const loop = countLoopTurns();
  const ran: string[] = [];
  const work = async (name: string): Promise<void> => {
    const slicer = new TimeSlicer(1);
    for (let i = 0; i < 4; i++) {
      busy(2);
      ran.push(`${name}@${loop.turn}`);
      await slicer.pause();
    }
  };
  await Promise.all([work('a'), work('b'), work('c')]);
  loop.stop();
  const turns = ran.map((r) => Number(r.split('@')[1]));
  t.equal(new Set(turns.slice(3)).size, turns.length - 3, `after the first slices, no two in one turn (${ran.join(' ')})`);
  t.same(ran.slice(3, 9).map((r) => r[0]), ['a', 'b', 'c', 'a', 'b', 'c'], 'round robin');
});
