/**
 * The mirror on the real notifier (the stack's feed, a SIP phone on the loop network): what the directory holds
 * follows the dialog as the notifier changes it (cluster.md §7 SUBSCRIBE: create, refresh, each CSeq lease step,
 * remove), and a dialog mirrored by another node is still 481 here (issue 22 item 4: dialogs never come from the
 * directory).
 */
import t from 'tap';
import { SubscriptionMirror } from '../../../src/cluster/directory/subscription-mirror.js';
import { MemoryClusterData } from '../../../src/cluster/memory/memory-cluster-data.js';
import { MemoryClusterEngine } from '../../../src/cluster/memory/memory-cluster-engine.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { SEQUENCE_LEASE } from '../../../src/subscriptions/notifier.js';
import { DOMAIN, NotifierHarness } from '../../subscriptions/helpers/notifier-harness.js';

t.test("the directory follows the notifier's dialog: created, NOTIFY lease steps, refresh, unsubscribe (cluster.md §7)", async (t) => {
  const h = new NotifierHarness();
  t.teardown(() => h.dispose());
  const data = new MemoryClusterData();
  const engine = new MemoryClusterEngine(data, h.clock);
  const mirror = new SubscriptionMirror({
    engine,
    node: 'piston@test',
    clock: h.clock,
    logger: silentLogger,
    liveRecords: () => h.notifier.liveRecords(),
    cseqStep: SEQUENCE_LEASE,
  });
  mirror.start(h.feed);
  t.teardown(() => mirror.close());
  const settle = async (): Promise<void> => {
    await h.tick(200);
    await mirror.flush();
  };

  const dialog = await h.subscribe({ user: '1001', expires: 600 });
  t.equal(dialog.response.status, 200);
  await settle();
  const id = h.record()!.id;
  // The live record (notifier.list gives copies).
  const live = () => h.notifier.liveRecords().find((r) => r.id === id)!;
  let rec = live();
  let [entry] = await engine.listNode('piston@test', h.clock.now());
  t.match(entry, { id: rec.id, domain: DOMAIN, expiresAt: rec.expiresAt, fields: { resource: '1001', event: 'dialog', callId: dialog.callId } });
  t.equal(entry?.fields.reply, '200', "the first NOTIFY's answer is mirrored");

  for (let i = 0; i < 2 * SEQUENCE_LEASE + 3; i++) {
    h.presentity.reset(`1001@${DOMAIN}`);
    await h.tick(20);
  }
  await settle();
  rec = live();
  [entry] = await engine.listNode('piston@test', h.clock.now());
  t.ok(rec.localCseq >= 2 * SEQUENCE_LEASE + 3, `the dialog sent ${rec.localCseq} NOTIFYs`);
  t.ok(rec.localCseq - Number(entry?.fields.localCseq) < SEQUENCE_LEASE, `directory CSeq ${entry?.fields.localCseq} within a lease of ${rec.localCseq}`);
  t.ok(rec.version - Number(entry?.fields.version) <= SEQUENCE_LEASE, 'and the version');

  h.clock.advance(1000);
  t.equal((await h.resubscribe(dialog, { expires: 900 })).status, 200);
  await settle();
  rec = live();
  [entry] = await engine.listNode('piston@test', h.clock.now());
  t.equal(entry?.expiresAt, rec.expiresAt, 'the refresh moved the expiry');

  t.equal((await h.resubscribe(dialog, { expires: 0 })).status, 200);
  await settle();
  t.same(await engine.listNode('piston@test', h.clock.now()), [], 'unsubscribed: gone from the directory');
  t.same(await engine.listDomain(DOMAIN, h.clock.now()), []);
});

t.test("another node's dialog, mirrored in the directory, is unknown here: its refresh gets 481 (RFC 3261 §12.2.2, cluster.md §8)", async (t) => {
  const n1 = new NotifierHarness();
  const n2 = new NotifierHarness({ clock: n1.clock });
  t.teardown(() => {
    n1.dispose();
    n2.dispose();
  });
  const engine = new MemoryClusterEngine(new MemoryClusterData(), n1.clock);
  const mirror = new SubscriptionMirror({ engine, node: 'n1', clock: n1.clock, logger: silentLogger, liveRecords: () => n1.notifier.liveRecords() });
  mirror.start(n1.feed);
  t.teardown(() => mirror.close());
  const dialog = await n1.subscribe({ user: '1001', expires: 600 });
  await n1.tick(200);
  await mirror.flush();
  t.equal((await engine.listNode('n1', n1.clock.now())).length, 1, 'n1 mirrored it');
  // The phone's refresh reaches n2 (n1 died, the proxy fails over).
  const res = await n2.send({ ...dialog.spec, toTag: dialog.toTag, cseq: dialog.cseq + 1 });
  t.equal(res.status, 481);
  const fresh = await n2.subscribe({ user: '1001', expires: 600 });
  t.equal(fresh.response.status, 200, 'a new SUBSCRIBE on n2 works (RFC 6665 §4.1.2.2)');
});
