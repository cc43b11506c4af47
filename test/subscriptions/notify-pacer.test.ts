import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import type { LiveSubscription } from '../../src/subscriptions/live-subscription.js';
import { NOTIFY_SLOT_HOLD_MS, NotifyPacer, type PacedNotify } from '../../src/subscriptions/notify-pacer.js';

interface TestFlight extends PacedNotify {
  name: string;
  /** The source it is paced as; default one source for all. */
  source?: string;
}

function pacer(window: number): { p: NotifyPacer<TestFlight>; clock: ManualClock; sent: string[]; notified: string[] } {
  const clock = new ManualClock(0);
  const sent: string[] = [];
  const notified: string[] = [];
  const p: NotifyPacer<TestFlight> = new NotifyPacer<TestFlight>({
    clock,
    window,
    sourceOf: (f) => f.source ?? 'one',
    // As the notifier does: what is sent takes a slot.
    send: (f) => {
      sent.push(f.name);
      p.take(f);
    },
    notify: (rec) => {
      notified.push(rec.id);
      p.take({ name: rec.id, holdsSlot: false });
    },
  });
  return { p, clock, sent, notified };
}

const flight = (name: string): TestFlight => ({ name, holdsSlot: false });
const watcher = (id: string, event = 'dialog'): LiveSubscription => ({ id, event }) as LiveSubscription;

t.test('the window holds at most `window` NOTIFYs; a deferred one goes when a slot is given back, oldest first (RFC 3261 §17.1.2.2)', (t) => {
  const { p, sent } = pacer(2);
  const a = flight('a');
  p.take(a);
  p.take(flight('b'));
  t.ok(p.full);
  p.defer(flight('c'));
  p.defer(flight('d'));
  p.pump();
  t.same(sent, [], 'no room');
  p.release(a);
  t.notOk(p.full);
  p.pump();
  t.same(sent, ['c'], 'one slot, the oldest waiting');
  t.ok(p.full);
  p.release(a);
  p.pump();
  t.same(sent, ['c'], 'a slot given back twice counts once');
  t.end();
});

t.test('an unanswered NOTIFY gives its slot back after NOTIFY_SLOT_HOLD_MS and what waits goes', (t) => {
  const { p, clock, sent } = pacer(1);
  p.take(flight('stuck'));
  p.defer(flight('next'));
  clock.advance(NOTIFY_SLOT_HOLD_MS - 1);
  t.same(sent, []);
  clock.advance(1);
  t.same(sent, ['next']);
  t.end();
});

t.test('a change is spread at once while the window has room, the rest queued whole and reached in order; other packages skipped', (t) => {
  const { p, notified } = pacer(2);
  const watchers = new Set([watcher('w1'), watcher('p1', 'presence'), watcher('w2'), watcher('w3')]);
  p.fanOut(watchers.values(), ['dialog']);
  t.same(notified, ['w1', 'w2'], 'two slots');
  t.equal(p.queuedChanges, 1, 'the rest waits as one entry');
  watchers.add(watcher('w4'));
  const late = flight('late');
  p.defer(late);
  p.release({ name: 'w1', holdsSlot: true } as TestFlight);
  p.pump();
  t.same(notified, ['w1', 'w2', 'w3'], 'the change first (it came first)');
  t.equal(p.queuedChanges, 1);
  t.end();
});

t.test('a change behind waiting NOTIFYs waits its turn, even when a slot is free', (t) => {
  const { p, sent, notified } = pacer(1);
  const a = flight('a');
  p.take(a);
  p.defer(flight('b'));
  p.release(a);
  p.fanOut(new Set([watcher('w1')]).values(), ['dialog']);
  t.same(notified, [], 'not ahead of b');
  p.pump();
  t.same(sent, ['b']);
  t.end();
});

t.test('stopped, it sends nothing more', (t) => {
  const { p, clock, sent } = pacer(1);
  p.take(flight('a'));
  p.defer(flight('b'));
  p.stop();
  clock.advance(NOTIFY_SLOT_HOLD_MS);
  p.pump();
  t.same(sent, []);
  t.end();
});
