import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
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
  before.dispose();

  await before.tick(60_000);
  const after = new NotifierHarness({ store, clock });
  t.teardown(() => after.dispose());
  after.notifier.restore();
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
  after.notifier.restore();
  t.equal(after.notifier.count(), 1, 'only the one still valid');
  t.equal(store.subscriptions.count(), 1, 'the expired one is deleted from the store');
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
  after.notifier.restore();
  const res = await after.resubscribe(d);
  t.equal(res.status, 200);
  t.equal(after.notifies[0]!.cseq.seq, 2);
});
