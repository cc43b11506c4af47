import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { subscriptionView } from '../../src/api/presence-view.js';
import { SEQUENCE_LEASE } from '../../src/subscriptions/notifier.js';
import { withDeferredReads } from '../store/helpers/deferred-reads.js';
import { DOMAIN, NotifierHarness, dialogVersion } from './helpers/notifier-harness.js';

const RESOURCE = `1001@${DOMAIN}`;

t.test('after a restart CSeq and version continue from the store and expiry is re-armed (RFC 3261 §12.2.1.1, RFC 4235 §4.1)', async (t) => {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const before = new NotifierHarness({ store, clock });
  await before.subscribe({ expires: 600 });
  before.presentity.setManualState(RESOURCE, 'early');
  await before.tick();
  t.equal(before.notifies.length, 2);
  // A clean stop (main.ts): the checkpoint writes CSeq/version exactly as last sent.
  before.dispose();
  before.notifier.checkpoint();

  await before.tick(60_000);
  const after = new NotifierHarness({ store, clock });
  t.teardown(() => after.dispose());
  await after.notifier.restore();
  t.equal(after.notifier.count(), 1, 'the subscription is live again');
  after.presentity.setManualState(RESOURCE, 'confirmed');
  await after.tick();
  t.equal(after.notifies.length, 1);
  const n = after.notifies[0]!;
  t.equal(n.cseq.seq, 3, 'CSeq goes on from 2');
  t.equal(dialogVersion(n), 2, 'version goes on from 1');
  t.equal(n.headers.get('subscription-state'), 'active;expires=540', 'remaining time');
  await after.tick(540_000);
  t.equal(after.notifier.count(), 0, 'the expiry was re-armed');
  t.equal(after.notifies.at(-1)!.headers.get('subscription-state'), 'terminated;reason=timeout');
  t.equal(after.notifies.at(-1)!.cseq.seq, 4);
});

t.test('restore drops subscriptions that expired while the server was down (RFC 6665 §4.2.2)', async (t) => {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const before = new NotifierHarness({ store, clock });
  await before.subscribe({ expires: 120 });
  await before.subscribe({ expires: 3600, fromUser: '2002' });
  before.dispose();
  clock.advance(300_000);
  const after = new NotifierHarness({ store, clock });
  t.teardown(() => after.dispose());
  await after.notifier.restore();
  t.equal(after.notifier.count(), 1, 'only the one still valid');
  t.equal(await store.subscriptions.count(), 1, 'the expired one is deleted from the store');
  t.equal(after.notifier.list(DOMAIN)[0]!.watcherUser, '2002');
  await after.tick();
  t.equal(after.notifies.length, 0, 'no NOTIFY to the expired one');
});

t.test('a refresh after a restart is accepted in the restored dialog (RFC 6665 §4.2.1.2)', async (t) => {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const before = new NotifierHarness({ store, clock });
  const d = await before.subscribe();
  before.dispose();
  const after = new NotifierHarness({ store, clock });
  t.teardown(() => after.dispose());
  await after.notifier.restore();
  const res = await after.resubscribe(d);
  t.equal(res.status, 200);
  t.equal(after.notifies[0]!.cseq.seq, 2);
});

t.test('NOTIFYs write CSeq/version to the store only once they run SEQUENCE_LEASE ahead of it (RFC 3261 §12.2.1.1)', async (t) => {
  const store = new MemoryStore();
  const h = new NotifierHarness({ store, clock: new ManualClock() });
  t.teardown(() => h.dispose());
  await h.subscribe();
  const stored = async (): Promise<number> => (await store.subscriptions.loadAll())[0]!.localCseq;
  t.equal(await stored(), 1, 'a new subscription is stored with the CSeq of its first NOTIFY');
  const states = ['early', 'confirmed', 'terminated'] as const;
  for (let i = 0; i < SEQUENCE_LEASE - 1; i++) {
    h.presentity.setManualState(RESOURCE, states[i % 3]!);
    await h.tick();
  }
  t.equal(h.notifies.at(-1)!.cseq.seq, SEQUENCE_LEASE);
  t.equal(await stored(), 1, 'not written while within the lease');
  h.presentity.setManualState(RESOURCE, states[(SEQUENCE_LEASE - 1) % 3]!);
  await h.tick();
  t.equal(h.notifies.at(-1)!.cseq.seq, SEQUENCE_LEASE + 1);
  t.equal(await stored(), SEQUENCE_LEASE + 1, 'written when the lease ran out');
  t.equal((await store.subscriptions.loadAll())[0]!.version, SEQUENCE_LEASE + 1, 'version with it');
});

t.test('after a crash (no checkpoint) a restore with headroom never sends a CSeq or version already used (RFC 3261 §12.2.1.1, RFC 4235 §4.1)', async (t) => {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const before = new NotifierHarness({ store, clock });
  await before.subscribe();
  const states = ['early', 'confirmed', 'terminated'] as const;
  for (let i = 0; i < 2 * SEQUENCE_LEASE - 1; i++) {
    before.presentity.setManualState(RESOURCE, states[i % 3]!);
    await before.tick();
  }
  const lastCseq = before.notifies.at(-1)!.cseq.seq;
  const lastVersion = dialogVersion(before.notifies.at(-1)!);
  t.ok((await store.subscriptions.loadAll())[0]!.localCseq < lastCseq, 'the store lags behind what was sent');
  before.dispose(); // no checkpoint: the process died

  const after = new NotifierHarness({ store, clock });
  t.teardown(() => after.dispose());
  await after.notifier.restore({ headroom: 4 * SEQUENCE_LEASE });
  after.presentity.setManualState(RESOURCE, 'confirmed');
  await after.tick();
  t.ok(after.notifies[0]!.cseq.seq > lastCseq, 'CSeq goes up');
  t.ok(dialogVersion(after.notifies[0]!) > lastVersion, 'version goes up');
});

/** `notify.sequence` as the admin API lists the only subscription (api-contract.md: the CSeq of the last NOTIFY). */
function listedSequence(h: NotifierHarness): number {
  const rec = h.notifier.list(DOMAIN)[0]!;
  return (subscriptionView(rec).notify as { sequence: number }).sequence;
}

t.test('after a crash the listed notify.sequence is the CSeq moved ahead, and the next NOTIFY carries the one after it (api-contract.md, RFC 3261 §12.2.1.1)', async (t) => {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const before = new NotifierHarness({ store, clock });
  await before.subscribe();
  const states = ['early', 'confirmed', 'terminated'] as const;
  for (let i = 0; i < SEQUENCE_LEASE + 3; i++) {
    before.presentity.setManualState(RESOURCE, states[i % 3]!);
    await before.tick();
  }
  const lastSent = before.notifies.at(-1)!.cseq.seq;
  t.equal(listedSequence(before), lastSent, 'while running, the list shows the CSeq of the last NOTIFY sent');
  const stored = (await store.subscriptions.loadAll())[0]!;
  t.equal(stored.lastNotify!.cseq, stored.localCseq, 'the store holds a last NOTIFY with the CSeq it holds');
  t.ok(stored.localCseq < lastSent, 'and lags behind what was sent');
  before.dispose(); // kill -9: no checkpoint

  const headroom = 4 * SEQUENCE_LEASE;
  const after = new NotifierHarness({ store, clock });
  t.teardown(() => after.dispose());
  await after.notifier.restore({ headroom });
  const listed = listedSequence(after);
  t.equal(listed, stored.localCseq + headroom, 'before any NOTIFY: the stored CSeq plus the headroom');
  t.ok(listed >= lastSent, 'never below a CSeq already sent');
  t.equal((await store.subscriptions.loadAll())[0]!.lastNotify!.cseq, listed, 'written so, so a second crash starts from it');
  after.presentity.setManualState(RESOURCE, 'early');
  await after.tick();
  t.equal(after.notifies[0]!.cseq.seq, listed + 1, 'the next NOTIFY carries the listed sequence plus one');
  t.equal(listedSequence(after), after.notifies[0]!.cseq.seq, 'then the list shows that NOTIFY');
});

t.test('after a clean stop the listed notify.sequence is the last NOTIFY sent, and the next NOTIFY follows it (api-contract.md)', async (t) => {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const before = new NotifierHarness({ store, clock });
  await before.subscribe();
  before.presentity.setManualState(RESOURCE, 'early');
  await before.tick();
  const lastSent = before.notifies.at(-1)!.cseq.seq;
  before.dispose();
  before.notifier.checkpoint();

  const after = new NotifierHarness({ store, clock });
  t.teardown(() => after.dispose());
  await after.notifier.restore();
  t.equal(listedSequence(after), lastSent);
  after.presentity.setManualState(RESOURCE, 'confirmed');
  await after.tick();
  t.equal(after.notifies[0]!.cseq.seq, lastSent + 1);
});

t.test('a subscription stored before its first NOTIFY went out lists the moved CSeq after a crash too (api-contract.md)', async (t) => {
  const store = new MemoryStore();
  const clock = new ManualClock();
  // A send window of one, held by an unanswered NOTIFY: the second subscription is stored while its NOTIFY waits.
  const before = new NotifierHarness({ store, clock, notifyWindow: 1 });
  before.answer = () => 'ignore';
  await before.subscribe({ user: '1002' });
  await before.subscribe();
  const waiting = (await store.subscriptions.loadAll()).find((r) => r.resource === '1001')!;
  t.equal(waiting.lastNotify, null, 'stored with no NOTIFY yet');
  before.dispose();

  const after = new NotifierHarness({ store, clock });
  t.teardown(() => after.dispose());
  await after.notifier.restore({ headroom: 4 * SEQUENCE_LEASE });
  const rec = after.notifier.list(DOMAIN).find((r) => r.resource === '1001')!;
  const view = subscriptionView(rec).notify as { sequence: number; reply: number; body: string };
  t.same(view, { sequence: waiting.localCseq + 4 * SEQUENCE_LEASE, reply: 0, body: 'undefined' }, 'no body or answer known');
  after.presentity.setManualState(RESOURCE, 'early');
  await after.tick();
  const next = after.notifies.find((n) => n.from.uri.user === '1001')!;
  t.equal(next.cseq.seq, view.sequence + 1);
});

t.test('restore waits for a store whose reads answer later: nothing is live until the stored subscriptions arrive', async (t) => {
  // The presence-state port answers reads asynchronously so that a networked engine (the cluster's Redis) can serve it.
  const store = withDeferredReads(new MemoryStore());
  const clock = new ManualClock();
  const before = new NotifierHarness({ store, clock });
  await before.subscribe({ expires: 600 });
  await before.subscribe({ expires: 600, fromUser: '2002' });
  before.dispose();
  before.notifier.checkpoint();

  const after = new NotifierHarness({ store, clock });
  t.teardown(() => after.dispose());
  const restoring = after.notifier.restore();
  t.equal(after.notifier.count(), 0, 'nothing live before the store answered');
  await restoring;
  t.equal(after.notifier.count(), 2, 'both subscriptions are live again');
  after.presentity.setManualState(RESOURCE, 'confirmed');
  await after.tick();
  t.equal(after.notifies.length, 2, 'and each watcher is notified');
  t.same(after.notifies.map((n) => n.cseq.seq), [2, 2], 'CSeq goes on from the stored one');
});
