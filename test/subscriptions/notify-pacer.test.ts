import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import type { LiveSubscription } from '../../src/subscriptions/live-subscription.js';
import { defaultSourceShare, NOTIFY_SLOT_HOLD_MS, NotifyPacer, type PacedNotify } from '../../src/subscriptions/notify-pacer.js';

interface TestFlight extends PacedNotify {
  name: string;
  /** The source it is paced as; default one source for all. */
  source?: string;
}

function pacer(window: number): { p: NotifyPacer<TestFlight>; clock: ManualClock; sent: string[]; notified: string[]; taken: TestFlight[] } {
  const clock = new ManualClock(0);
  const sent: string[] = [];
  const taken: TestFlight[] = [];
  const notified: string[] = [];
  const p: NotifyPacer<TestFlight> = new NotifyPacer<TestFlight>({
    clock,
    window,
    sourceOf: (f) => f.source ?? 'one',
    // As the notifier does: what is sent takes a slot.
    send: (f) => {
      sent.push(f.name);
      taken.push(f);
      p.take(f);
    },
    notify: (rec) => {
      notified.push(rec.id);
      p.take({ name: rec.id, holdsSlot: false });
    },
  });
  return { p, clock, sent, notified, taken };
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

const from = (name: string, source: string): TestFlight => ({ name, source, holdsSlot: false });

t.test('one source holds at most its share of the window; another source still has room (issue 19)', (t) => {
  const { p } = pacer(4);
  t.equal(defaultSourceShare(4), 3);
  t.equal(defaultSourceShare(1), 1, 'a window of one is all one source\'s');
  const held = [from('a1', 'A'), from('a2', 'A'), from('a3', 'A')];
  for (const f of held) p.take(f);
  t.equal(p.heldBy('A'), 3);
  t.notOk(p.hasRoom('A'), 'A has used its share');
  t.ok(p.hasRoom('B'), 'B finds a slot');
  t.notOk(p.full);
  p.release(held[0]!);
  t.ok(p.hasRoom('A'), 'a slot given back is A\'s again');
  t.equal(p.heldBy('A'), 2);
  t.end();
});

t.test('what waits is served round-robin between sources, one NOTIFY per turn, each in its own order (issue 19)', (t) => {
  const { p, sent, taken } = pacer(1);
  const blocker = from('x', 'X');
  p.take(blocker);
  for (let i = 1; i <= 4; i++) p.defer(from(`a${i}`, 'A'));
  p.defer(from('b1', 'B'));
  p.defer(from('b2', 'B'));
  p.defer(from('c1', 'C'));
  p.release(blocker);
  p.pump();
  // Each answer frees the only slot for the next turn.
  for (let i = 0; i < 6; i++) {
    p.release(taken.at(-1)!);
    p.pump();
  }
  t.same(sent, ['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4']);
  t.end();
});

t.test('a source at its share leaves the ring and comes back when it gives a slot back; the others are not held up (issue 19)', (t) => {
  const { p, sent, taken } = pacer(4);
  const a = [from('a1', 'A'), from('a2', 'A'), from('a3', 'A')];
  for (const f of a) p.take(f);
  const b0 = from('b0', 'B');
  p.take(b0);
  t.ok(p.full);
  p.defer(from('a4', 'A'));
  p.defer(from('b1', 'B'));
  p.defer(from('a5', 'A'));
  t.notOk(p.hasRoom('B'), 'no room for anyone in a full window');
  p.release(a[0]!);
  p.pump();
  t.same(sent, ['b1'], 'B waited with room in its share, A was past its own: B goes first');
  t.notOk(p.hasRoom('A'), 'A\'s own NOTIFYs wait ahead of a new one of A');
  p.release(taken.at(-1)!);
  p.pump();
  t.same(sent, ['b1', 'a4'], 'then A, back in the ring since it gave a slot back');
  p.release(b0);
  p.pump();
  t.same(sent, ['b1', 'a4'], 'a5 waits for A to give a slot back, however much room the window has');
  t.ok(p.hasRoom('C'), 'while any other source has room');
  p.release(a[1]!);
  p.pump();
  t.same(sent, ['b1', 'a4', 'a5']);
  t.end();
});

t.test('a change reaches each watcher once; a watcher whose source is past its share waits in that source\'s lane (issue 19)', (t) => {
  const clock = new ManualClock(0);
  const order: string[] = [];
  const p: NotifyPacer<TestFlight> = new NotifyPacer<TestFlight>({
    clock,
    window: 4,
    sourceOf: (f) => f.source ?? 'one',
    send: (f) => {
      order.push(`sent ${f.name}`);
      p.take(f);
    },
    // As the notifier does: the NOTIFY goes when its source has room, else it waits in its lane.
    notify: (rec) => {
      const f = from(rec.id, rec.id.slice(0, 1));
      if (p.hasRoom(f.source!)) {
        order.push(`now ${rec.id}`);
        p.take(f);
      } else p.defer(f);
    },
  });
  p.fanOut(new Set([watcher('A1'), watcher('A2'), watcher('A3'), watcher('A4'), watcher('B1'), watcher('A5')]).values(), ['dialog']);
  t.same(order, ['now A1', 'now A2', 'now A3', 'now B1'], 'A up to its share of 3, then B; A4 waits in A\'s lane');
  t.equal(p.queuedChanges, 1, 'the window is full: the rest of the change waits whole');
  clock.advance(NOTIFY_SLOT_HOLD_MS);
  t.same(order.slice(4), ['sent A4', 'sent A5'], 'A\'s NOTIFYs go in order as its slots come back');
  t.equal(p.queuedChanges, 0);
  t.end();
});
