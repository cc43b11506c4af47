/**
 * The subscription directory (src/cluster/directory/, cluster.md §6-§8), written once and run on the in-memory twin
 * (memory-directory.test.ts) and on a real redis-server (redis-directory.test.ts). Registers tests only when called.
 */
import t from 'tap';
import { ClusterListing } from '../../../src/cluster/directory/cluster-listing.js';
import { directoryEntryOf } from '../../../src/cluster/directory/directory-record.js';
import { DirectoryJanitor } from '../../../src/cluster/directory/directory-janitor.js';
import { NodeHeartbeat } from '../../../src/cluster/directory/node-heartbeat.js';
import { SubscriptionMirror, type SubscriptionMirrorOptions } from '../../../src/cluster/directory/subscription-mirror.js';
import type { ClusterEngine } from '../../../src/cluster/engine-port.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { FakeNode, faultyEngine, type DirectoryHarness } from './directory-support.js';

const FLUSH = 50;
const BEAT = { everyMs: 100, ttlMs: 600 };

type Tap = { teardown(fn: () => unknown): void };

export function directorySuite(backend: string, open: () => Promise<DirectoryHarness>): void {
  t.test(`${backend}: subscription directory (src/cluster/directory/)`, async (t) => {
    const setup = async (tt: Tap): Promise<DirectoryHarness> => {
      const h = await open();
      tt.teardown(() => h.cleanup());
      return h;
    };
    const mirrors = new Map<DirectoryHarness, SubscriptionMirror[]>();
    /** Lets the feed deliver and the window pass, then waits for every mirror of `h` to have sent what it holds. */
    const settle = async (h: DirectoryHarness): Promise<void> => {
      await h.pass(FLUSH * 3);
      for (const m of mirrors.get(h) ?? []) await m.flush();
    };
    const mirrorOf = (tt: Tap, h: DirectoryHarness, node: FakeNode, engine: ClusterEngine, over: Partial<SubscriptionMirrorOptions> = {}) => {
      const m = new SubscriptionMirror({
        engine,
        node: node.name,
        clock: h.clock,
        logger: silentLogger,
        liveRecords: node.records,
        flushEveryMs: FLUSH,
        retryEveryMs: 100,
        ...over,
      });
      m.start(node.feed);
      tt.teardown(() => m.close());
      mirrors.set(h, [...(mirrors.get(h) ?? []), m]);
      return m;
    };
    const beat = (tt: Tap, h: DirectoryHarness, node: string, engine: ClusterEngine) => {
      const hb = new NodeHeartbeat({ engine, node, clock: h.clock, logger: silentLogger, info: { sip: `${node}:5060` }, ...BEAT });
      hb.start();
      tt.teardown(() => hb.stop());
      return hb;
    };

    t.test('a new subscription is mirrored with its fields and TTL; a refresh rewrites it; a removal deletes it (cluster.md §6, §7 SUBSCRIBE)', async (t) => {
      const h = await setup(t);
      const a = new FakeNode('A', h.clock);
      const engine = h.engine();
      mirrorOf(t, h, a, engine);
      const rec = a.create({ resource: '1001', event: 'dialog', watcherUser: '1002', contact: 'sip:1002@192.0.2.7:5062' });
      await settle(h);
      let listed = await engine.listNode('A', h.now());
      t.equal(listed.length, 1);
      t.match(listed[0], {
        id: rec.id,
        domain: 'pbx.example.com',
        node: 'A',
        expiresAt: rec.expiresAt,
        fields: { callId: rec.callId, resource: '1001', event: 'dialog', watcherUser: '1002', contact: 'sip:1002@192.0.2.7:5062', grantedExpires: '3600' },
      });
      t.same((await engine.listDomain('pbx.example.com', h.now())).map((e) => e.id), [rec.id], 'the domain index holds it');

      a.refresh(rec, 900_000);
      await settle(h);
      listed = await engine.listNode('A', h.now());
      t.equal(listed[0]?.expiresAt, rec.expiresAt, 'the refresh moved its expiry');

      a.remove(rec);
      await settle(h);
      t.same(await engine.listNode('A', h.now()), [], 'removed from the node index');
      t.same(await engine.listDomain('pbx.example.com', h.now()), [], 'removed from the domain index');
    });

    t.test('an entry leaves the listings at its expiry without any write (a subscription that lapsed on a dead node)', async (t) => {
      const h = await setup(t);
      const a = new FakeNode('A', h.clock);
      const engine = h.engine();
      const mirror = mirrorOf(t, h, a, engine);
      a.create({ expiresAt: h.now() + 400 });
      await settle(h);
      t.equal((await engine.listNode('A', h.now())).length, 1);
      await mirror.close();
      await h.pass(500);
      t.same(await engine.listNode('A', h.now()), []);
    });

    t.test('NOTIFYs are mirrored per CSeq lease step, not one write each: 100 NOTIFYs in 10 flush windows, at most 7 writes, CSeq lagging < 16 (cluster.md §7)', async (t) => {
      const h = await setup(t);
      const a = new FakeNode('A', h.clock);
      const ctl = faultyEngine(h.engine());
      const mirror = mirrorOf(t, h, a, ctl.engine);
      const rec = a.create();
      await settle(h);
      const before = ctl.calls.get('mirrorSubscription') ?? 0;
      for (let group = 0; group < 10; group++) {
        for (let i = 0; i < 10; i++) a.notify(rec, 200);
        await h.pass(FLUSH + 10);
      }
      await mirror.flush();
      const writes = (ctl.calls.get('mirrorSubscription') ?? 0) - before;
      // A write per window would be 10; a step every 16 CSeqs (plus the first answer) gives 5-7.
      t.ok(writes >= 1 && writes <= 7, `${writes} writes for 100 NOTIFYs`);
      const [entry] = await ctl.engine.listNode('A', h.now());
      const cseq = Number(entry?.fields.localCseq);
      t.ok(rec.localCseq - cseq < 16, `directory CSeq ${cseq}, dialog CSeq ${rec.localCseq}`);
      t.ok(rec.version - Number(entry?.fields.version) <= 16, 'version lags by a step at most');
      t.equal(entry?.fields.reply, '200', 'the answer to a mirrored NOTIFY is mirrored');
    });

    t.test('a burst of 300 new subscriptions waits for the coalescing window and leaves as one batch', async (t) => {
      const h = await setup(t);
      const a = new FakeNode('A', h.clock);
      const ctl = faultyEngine(h.engine());
      const mirror = mirrorOf(t, h, a, ctl.engine);
      await settle(h);
      const startBatches = mirror.status().batches;
      for (let i = 0; i < 300; i++) a.create();
      await h.pass(1);
      t.equal(ctl.calls.get('mirrorSubscription') ?? 0, 0, 'nothing written inside the window');
      await settle(h);
      t.equal(mirror.status().batches - startBatches, 1, 'one batch');
      t.equal(ctl.calls.get('mirrorSubscription'), 300);
      t.equal((await ctl.engine.listNode('A', h.now())).length, 300);
    });

    t.test('engine down: the node goes on local only; on return it re-mirrors what it holds and removes what left (cluster.md §8)', async (t) => {
      const h = await setup(t);
      const a = new FakeNode('A', h.clock);
      const ctl = faultyEngine(h.engine());
      const mirror = mirrorOf(t, h, a, ctl.engine);
      const s1 = a.create();
      const s2 = a.create();
      await settle(h);
      t.equal((await ctl.engine.listNode('A', h.now())).length, 2);

      ctl.fault = 'down';
      a.remove(s1);
      a.refresh(s2, 1_200_000);
      const s3 = a.create();
      for (let i = 0; i < 40; i++) a.notify(s2, 200);
      await settle(h);
      t.equal(mirror.status().degraded, true, 'degraded, not thrown');
      t.equal(mirror.status().pending, 0, 'nothing queued while down: the re-mirror covers it');

      ctl.fault = 'none';
      await h.pass(300);
      await mirror.flush();
      t.equal(mirror.status().degraded, false);
      const listed = await ctl.engine.listNode('A', h.now());
      t.same(listed.map((e) => e.id).sort(), [s2.id, s3.id].sort(), 's1 removed, s3 added');
      const e2 = listed.find((e) => e.id === s2.id)!;
      t.equal(e2.expiresAt, s2.expiresAt, "s2's refresh is there");
      t.equal(e2.fields.localCseq, String(s2.localCseq), "s2's CSeq is exact after a re-mirror");
    });

    t.test('an engine that lost its data (new epoch) gets every subscription again on remirror() (cluster.md §8)', async (t) => {
      const h = await setup(t);
      const a = new FakeNode('A', h.clock);
      const engine = h.engine();
      const mirror = mirrorOf(t, h, a, engine);
      for (let i = 0; i < 3; i++) a.create();
      await settle(h);
      await h.wipe();
      t.same(await engine.listNode('A', h.now()), []);
      mirror.remirror();
      await mirror.flush();
      t.equal((await engine.listNode('A', h.now())).length, 3);
    });

    t.test('the queue is bounded: past maxPending, or when the feed drops events, the mirror re-mirrors the live set', async (t) => {
      const h = await setup(t);
      const a = new FakeNode('A', h.clock);
      const engine = h.engine();
      const mirror = mirrorOf(t, h, a, engine, { maxPending: 10, flushEveryMs: 10_000 });
      await h.pass(FLUSH);
      const recs = Array.from({ length: 30 }, () => a.create());
      for (const rec of recs.slice(0, 5)) a.remove(rec);
      await h.pass(FLUSH);
      await mirror.flush();
      t.ok(mirror.status().pending <= 10);
      t.equal((await engine.listNode('A', h.now())).length, 25, 'the live set, without the removed five');

      const b = new FakeNode('B', h.clock);
      const small = mirrorOf(t, h, b, engine, { feedCapacity: 5 });
      await h.pass(FLUSH);
      for (let i = 0; i < 50; i++) b.create();
      await settle(h);
      await small.flush();
      t.equal((await engine.listNode('B', h.now())).length, 50, 'events the feed dropped are covered by the re-mirror');
    });

    t.test('the list on any node: local exact, other live nodes from the directory with stalker = owner; a dead node hidden within its TTL (cluster.md §7, §8)', async (t) => {
      const h = await setup(t);
      const nodes = ['A', 'B', 'C'].map((name) => ({ name, fake: new FakeNode(name, h.clock), engine: h.engine() }));
      const hb = new Map<string, NodeHeartbeat>();
      for (const n of nodes) {
        mirrorOf(t, h, n.fake, n.engine);
        hb.set(n.name, beat(t, h, n.name, n.engine));
      }
      const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
      const local = a.fake.create({ resource: '1001' });
      const b1 = b.fake.create({ resource: '1002' });
      b.fake.notify(b1, 200);
      b.fake.create({ resource: '1003', domain: 'other.example.com' });
      c.fake.create({ resource: '1004' });
      await settle(h);
      const listing = new ClusterListing({ engine: a.engine, node: 'A', clock: h.clock, logger: silentLogger, local: a.fake.records, renderBody: (e) => `body of ${e.id}` });
      let got = await listing.list();
      t.equal(got.partial, false);
      t.same(got.records.map((r) => `${r.node}:${r.resource}`).sort(), ['A:1001', 'B:1002', 'B:1003', 'C:1004']);
      t.equal(got.records[0], local, 'the local record itself, exact');
      const remote = got.records.find((r) => r.resource === '1002')!;
      t.match(remote, { id: b1.id, callId: b1.callId, event: 'dialog', domain: 'pbx.example.com', grantedExpires: 3600, version: b1.version, watcherUser: '1002' });
      t.match(remote.lastNotify, { cseq: 1, reply: 200, body: `body of ${b1.id}` });

      const scoped = await listing.list({ domains: ['other.example.com'] });
      t.same(scoped.records.map((r) => r.resource).sort(), ['1001', '1003'], 'a domain scope reads only that index (and the local ones)');

      await hb.get('C')!.stop();
      await h.pass(BEAT.ttlMs + 300);
      got = await listing.list();
      t.same(got.records.map((r) => `${r.node}:${r.resource}`).sort(), ['A:1001', 'B:1002', 'B:1003'], "C's beat lapsed: hidden");
    });

    t.test('domains where a user is watched on other live nodes, from the domains their heartbeats announce; the realm skipped, dead nodes ignored', async (t) => {
      const h = await setup(t);
      const a = h.engine();
      const b = new FakeNode('B', h.clock);
      const c = new FakeNode('C', h.clock);
      const bEngine = h.engine();
      const cEngine = h.engine();
      const bMirror = mirrorOf(t, h, b, bEngine);
      mirrorOf(t, h, c, cEngine);
      b.create({ resource: '1001', domain: '192.0.2.1' });
      b.create({ resource: '1001', domain: 'pbx.example.com' });
      b.create({ resource: '1002', domain: '192.0.2.2' });
      c.create({ resource: '1001', domain: '192.0.2.3' });
      await settle(h);
      t.same(bMirror.watchedDomains(10), ['192.0.2.1', '192.0.2.2', 'pbx.example.com'], 'the mirror counts its domains');
      t.equal(bMirror.watchedDomains(2), null, 'beyond the cap: no list');
      const info = (m: SubscriptionMirror, cap: number) => () => ({ domains: m.watchedDomains(cap) });
      const hbB = new NodeHeartbeat({ engine: bEngine, node: 'B', clock: h.clock, logger: silentLogger, info: info(bMirror, 10), ...BEAT });
      hbB.start();
      t.teardown(() => hbB.stop());
      // C announces too many domains to list: it is read whole.
      const hbC = new NodeHeartbeat({ engine: cEngine, node: 'C', clock: h.clock, logger: silentLogger, info: { domains: null }, ...BEAT });
      hbC.start();
      t.teardown(() => hbC.stop());
      await h.pass(BEAT.everyMs * 2);
      const listing = new ClusterListing({ engine: a, node: 'A', clock: h.clock, logger: silentLogger, local: () => [] });
      t.same(await listing.watchedDomains('1001', ['pbx.example.com']), ['192.0.2.1', '192.0.2.3']);
      t.same(await listing.watchedDomains('1002', ['pbx.example.com']), ['192.0.2.2']);
      t.same(await listing.watchedDomains('1003', ['pbx.example.com']), []);
      await hbC.stop();
      await h.pass(BEAT.ttlMs + 300);
      t.same(await listing.watchedDomains('1001', ['pbx.example.com']), ['192.0.2.1'], "C's beat lapsed: its watchers no longer count");
    });

    t.test('the list is local only and partial when the engine is down or does not answer (Kazoo timeout: true)', async (t) => {
      const h = await setup(t);
      const a = new FakeNode('A', h.clock);
      const ctl = faultyEngine(h.engine());
      a.create();
      const listing = new ClusterListing({ engine: ctl.engine, node: 'A', clock: h.clock, logger: silentLogger, local: a.records, timeoutMs: 200 });
      ctl.fault = 'down';
      let got = await listing.list();
      t.equal(got.partial, true);
      t.equal(got.records.length, 1);
      ctl.fault = 'hang';
      const pending = listing.list();
      await h.pass(300);
      got = await pending;
      t.equal(got.partial, true, 'a frozen engine gives a partial answer after the timeout');
      t.equal(got.records.length, 1);
    });

    t.test('heartbeats: a beating node is alive; one that stops is dead within its TTL', async (t) => {
      const h = await setup(t);
      const engine = h.engine();
      const hb = beat(t, h, 'A', engine);
      await h.pass(BEAT.everyMs * 3);
      let [a] = await engine.nodes();
      t.match(a, { node: 'A', alive: true, info: { sip: 'A:5060' } });
      t.ok(hb.status().beats >= 2, 'it beats repeatedly');
      await hb.stop();
      await h.pass(BEAT.ttlMs + 200);
      [a] = await engine.nodes();
      t.match(a, { node: 'A', alive: false, info: null });
    });

    t.test("the janitor removes a dead node's entries after the grace and forgets it; live nodes and later entries are spared (cluster.md §8)", async (t) => {
      const h = await setup(t);
      const bEngine = h.engine();
      const cEngine = h.engine();
      const aEngine = h.engine();
      const b = new FakeNode('B', h.clock);
      const c = new FakeNode('C', h.clock);
      mirrorOf(t, h, b, bEngine);
      mirrorOf(t, h, c, cEngine);
      const hbB = beat(t, h, 'B', bEngine);
      beat(t, h, 'C', cEngine);
      beat(t, h, 'A', aEngine);
      b.create();
      b.create();
      c.create();
      await settle(h);
      await hbB.stop();
      const janitor = new DirectoryJanitor({ engine: aEngine, node: 'A', clock: h.clock, logger: silentLogger, graceMs: 1000, beatTtlMs: BEAT.ttlMs });
      await h.pass(BEAT.ttlMs + 100);
      t.same(await janitor.sweep(), { forgotten: [], removed: 0 }, 'within the grace nothing is removed');
      await h.pass(1000);
      t.same(await janitor.sweep(), { forgotten: ['B'], removed: 2 });
      t.same(await aEngine.listNode('B', h.now()), []);
      t.notOk((await aEngine.nodes()).some((n) => n.node === 'B'), 'B forgotten');
      t.equal((await aEngine.listNode('C', h.now())).length, 1, "C's entry untouched");
      t.same(await janitor.sweep(), { forgotten: [], removed: 0 }, 'a second sweep finds nothing');

      // D dies; after the grace it restarts and has re-mirrored one entry before its first beat is seen: that one
      // stays, the one written before the death goes, and D is not forgotten.
      const dEngine = h.engine();
      const d = new FakeNode('D', h.clock);
      const dMirror = mirrorOf(t, h, d, dEngine);
      const hbD = beat(t, h, 'D', dEngine);
      d.create();
      await settle(h);
      await hbD.stop();
      await dMirror.close();
      await h.pass(BEAT.ttlMs + 1100);
      const fresh = d.create({ callId: 'D-after-restart' });
      await dEngine.mirrorSubscription(directoryEntryOf(fresh, 'D', h.now()));
      t.same(await janitor.sweep(), { forgotten: [], removed: 1 });
      t.same((await aEngine.listNode('D', h.now())).map((e) => e.id), [fresh.id]);
      t.ok((await aEngine.nodes()).some((n) => n.node === 'D'), 'D is still known');
    });
  });
}
