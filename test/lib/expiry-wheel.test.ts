import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { ExpiryWheel, type WheelItem } from '../../src/lib/expiry-wheel.js';

interface Item extends WheelItem {
  name: string;
}

const item = (name: string): Item => ({ name, wheelSlot: -1 });

function setup(resolution = 1000): { clock: ManualClock; wheel: ExpiryWheel<Item>; fired: string[] } {
  const clock = new ManualClock(1_700_000_000_000);
  const fired: string[] = [];
  const wheel = new ExpiryWheel<Item>(clock, resolution, (i) => fired.push(i.name));
  return { clock, wheel, fired };
}

t.test('a deadline never fires early and at most one resolution late (RFC 6665 §4.2.2 expiry)', async (t) => {
  const { clock, wheel, fired } = setup(1000);
  wheel.schedule(item('a'), clock.now() + 2500);
  clock.advance(2499);
  t.same(fired, [], 'not before its deadline');
  clock.advance(500);
  t.same(fired, [], 'within the resolution it may wait');
  clock.advance(1);
  t.same(fired, ['a'], 'by the end of its bucket it has fired');
});

t.test('many deadlines share one clock timer and fire in deadline order', async (t) => {
  const { clock, wheel, fired } = setup(1000);
  for (let i = 9; i >= 0; i--) wheel.schedule(item(`s${i}`), clock.now() + (i + 1) * 1000);
  t.equal(clock.pending, 1, 'one timer for ten deadlines');
  clock.advance(10_000);
  t.same(fired, ['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9']);
  t.equal(clock.pending, 0, 'nothing left armed');
});

t.test('moving a deadline later or earlier fires it once, at the new time', async (t) => {
  const { clock, wheel, fired } = setup(1000);
  const later = item('later');
  const earlier = item('earlier');
  wheel.schedule(later, clock.now() + 1000);
  wheel.schedule(earlier, clock.now() + 9000);
  wheel.schedule(later, clock.now() + 5000);
  wheel.schedule(earlier, clock.now() + 2000);
  clock.advance(2000);
  t.same(fired, ['earlier']);
  clock.advance(3000);
  t.same(fired, ['earlier', 'later']);
  clock.advance(10_000);
  t.same(fired, ['earlier', 'later'], 'the stale entries are skipped');
});

t.test('a cancelled item does not fire; clear() drops everything and its timer', async (t) => {
  const { clock, wheel, fired } = setup(1000);
  const a = item('a');
  wheel.schedule(a, clock.now() + 1000);
  wheel.schedule(item('b'), clock.now() + 1000);
  wheel.cancel(a);
  clock.advance(1000);
  t.same(fired, ['b']);
  wheel.schedule(item('c'), clock.now() + 1000);
  wheel.clear();
  t.equal(clock.pending, 0);
  clock.advance(5000);
  t.same(fired, ['b']);
});

t.test('the callback may file the item again, e.g. when its real deadline moved', async (t) => {
  const clock = new ManualClock(1_700_000_000_000);
  let count = 0;
  const wheel: ExpiryWheel<Item> = new ExpiryWheel<Item>(clock, 1000, (i) => {
    count++;
    if (count === 1) wheel.schedule(i, clock.now() + 3000);
  });
  wheel.schedule(item('x'), clock.now() + 1000);
  clock.advance(1000);
  t.equal(count, 1);
  clock.advance(3000);
  t.equal(count, 2);
});
