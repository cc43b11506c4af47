/**
 * The ClusterEngine contract (src/cluster/engine-port.ts, cluster.md §6–§7), written once and run against the
 * in-memory twin (memory-engine.test.ts) and the Redis adapter on a real redis-server (redis-engine.test.ts).
 * This file registers tests only when called, so running it alone is a no-op.
 */
import t from 'tap';
import type { ClusterEngine, ResourceDoc, SharedPublication } from '../../src/cluster/engine-port.js';

export interface EngineHarness {
  engine: ClusterEngine;
  /** A second engine on the same shared data: another node. */
  peer(): ClusterEngine;
  /** The time the engine's TTLs follow. */
  now(): number;
  /** Lets `ms` pass for the engine (a manual clock advances; a real engine is waited for). */
  pass(ms: number): Promise<void>;
  /** Drops every change-stream entry (`XTRIM pp:chg MAXLEN 0`). */
  trimChanges(): Promise<void>;
  /** Loses every key, as an engine restarted without its data. */
  wipe(): Promise<void>;
  cleanup(): Promise<void>;
}

export type EngineFactory = () => Promise<EngineHarness>;

const NON_UTF8 = Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a, 0xc3]);

function pub(over: Partial<SharedPublication> = {}): SharedPublication {
  return {
    event: 'dialog',
    etag: 'e1',
    seq: 1,
    contentType: 'application/dialog-info+xml',
    body: Buffer.from('<dialog-info/>'),
    document: { state: 'early' },
    expiresAt: 1_700_000_060_000,
    updatedAt: 1_700_000_000_000,
    ...over,
  };
}

function doc(publications: SharedPublication[], over: Partial<ResourceDoc> = {}): ResourceDoc {
  return { publications, history: { ended: ['d1'] }, manualState: null, mailbox: null, ...over };
}

const commitOf = (resource: string, expectedRev: number, d: ResourceDoc | null, state: unknown = null) => ({
  resource,
  expectedRev,
  doc: d,
  state: state as null,
  origin: 'n1',
  force: false,
});

export function engineContract(backend: string, open: EngineFactory): void {
  t.test(`${backend}: ClusterEngine contract (src/cluster/engine-port.ts)`, async (t) => {
    const harness = async (tt: { teardown(fn: () => unknown): void }): Promise<EngineHarness> => {
      const h = await open();
      tt.teardown(() => h.cleanup());
      return h;
    };

    t.test('an unknown resource reads as rev 0 with no document', async (t) => {
      const { engine } = await harness(t);
      t.strictSame(await engine.getResource('1001@example.com'), { resource: '1001@example.com', rev: 0, doc: null });
    });

    t.test('a commit on the expected rev writes the document byte-exact, bodies included (RFC 3903 §4.2)', async (t) => {
      const { engine } = await harness(t);
      const d = doc([pub({ body: NON_UTF8 })], { manualState: 'confirmed', mailbox: { newMessages: 2, oldMessages: 1, urgentNew: 0, urgentOld: 0, updatedAt: 5 } });
      const res = await engine.commit(commitOf('1001@example.com', 0, d));
      t.equal(res.ok, true);
      const snap = await engine.getResource('1001@example.com');
      t.equal(snap.rev, res.rev);
      t.strictSame(snap.doc, d);
      t.ok(snap.doc!.publications[0]!.body.equals(NON_UTF8));
    });

    t.test('compare-and-set: a stale expectedRev writes nothing and answers the current rev (cluster.md §7)', async (t) => {
      const { engine, peer } = await harness(t);
      const first = await engine.commit(commitOf('r@x', 0, doc([pub()])));
      const other = peer();
      const cursor = await other.latestCursor();
      const stale = await other.commit(commitOf('r@x', 0, doc([pub({ etag: 'e2' })])));
      t.strictSame(stale, { ok: false, rev: first.rev });
      const wrong = await other.commit(commitOf('r@x', first.rev + 5, null));
      t.strictSame(wrong, { ok: false, rev: first.rev });
      t.strictSame((await engine.getResource('r@x')).doc!.publications.map((p) => p.etag), ['e1']);
      const batch = await other.readChanges(cursor, 10, 0);
      t.equal(batch.entries.length, 0, 'a refused commit appends no change entry');
    });

    t.test('two writers racing on one rev: exactly one wins (total order per resource)', async (t) => {
      const { engine, peer } = await harness(t);
      const base = await engine.commit(commitOf('r@x', 0, doc([])));
      const other = peer();
      const results = await Promise.all([
        engine.commit(commitOf('r@x', base.rev, doc([], { manualState: 'early' }))),
        other.commit(commitOf('r@x', base.rev, doc([], { manualState: 'terminated' }))),
      ]);
      t.equal(results.filter((r) => r.ok).length, 1);
      const winner = results.find((r) => r.ok)!;
      const loser = results.find((r) => !r.ok)!;
      t.equal(loser.rev, winner.rev, 'the loser learns the winner’s rev');
    });

    t.test('revs rise across resources and never go back, also after a resource is deleted', async (t) => {
      const { engine } = await harness(t);
      const a = await engine.commit(commitOf('a@x', 0, doc([])));
      const b = await engine.commit(commitOf('b@x', 0, doc([])));
      t.ok(b.rev > a.rev);
      const del = await engine.commit(commitOf('a@x', a.rev, null));
      t.equal(del.ok, true);
      t.strictSame(await engine.getResource('a@x'), { resource: 'a@x', rev: 0, doc: null });
      const again = await engine.commit(commitOf('a@x', 0, doc([])));
      t.ok(again.rev > del.rev, 'a re-created resource takes a newer rev than its deletion');
    });

    t.test('the expiry index follows each commit’s publications: added, replaced, removed', async (t) => {
      const { engine } = await harness(t);
      const c1 = await engine.commit(commitOf('r@x', 0, doc([pub({ etag: 'a', expiresAt: 3000 }), pub({ etag: 'b', event: 'presence', expiresAt: 1000 })])));
      await engine.commit(commitOf('s@x', 0, doc([pub({ etag: 'c', expiresAt: 2000 })])));
      t.strictSame(await engine.dueExpiries(2500, 10), [
        { resource: 'r@x', event: 'presence', etag: 'b', expiresAt: 1000 },
        { resource: 's@x', event: 'dialog', etag: 'c', expiresAt: 2000 },
      ]);
      t.strictSame((await engine.dueExpiries(5000, 1)).map((e) => e.etag), ['b'], 'earliest first, at most limit');
      const c2 = await engine.commit(commitOf('r@x', c1.rev, doc([pub({ etag: 'a', expiresAt: 9000 })])));
      t.strictSame((await engine.dueExpiries(5000, 10)).map((e) => e.etag), ['c'], 'a refreshed and a removed publication leave the index');
      await engine.commit(commitOf('r@x', c2.rev, null));
      t.strictSame((await engine.dueExpiries(10_000, 10)).map((e) => e.etag), ['c'], 'deleting the resource removes its expiries');
    });

    t.test('the change stream delivers each commit once, in order, from a cursor, to another node', async (t) => {
      const { engine, peer } = await harness(t);
      const reader = peer();
      let cursor = await reader.latestCursor();
      const c1 = await engine.commit({ ...commitOf('r@x', 0, doc([]), { dialog: { state: 'early' } }), force: true });
      const c2 = await engine.commit(commitOf('r@x', c1.rev, null));
      const batch = await reader.readChanges(cursor, 10, 0);
      t.equal(batch.gap, false);
      t.match(batch.entries, [
        { resource: 'r@x', rev: c1.rev, prevRev: 0, origin: 'n1', force: true, state: { dialog: { state: 'early' } }, deleted: false },
        { resource: 'r@x', rev: c2.rev, prevRev: c1.rev, force: false, state: null, deleted: true },
      ]);
      t.equal(batch.entries.length, 2);
      cursor = batch.cursor;
      t.equal(cursor.rev, c2.rev);
      t.strictSame((await reader.readChanges(cursor, 10, 0)).entries, [], 'nothing is delivered twice');
      const c3 = await engine.commit(commitOf('q@x', 0, doc([])));
      const one = await reader.readChanges(cursor, 1, 0);
      t.strictSame(one.entries.map((e) => e.rev), [c3.rev]);
    });

    t.test('count bounds a batch and the next read goes on from its cursor', async (t) => {
      const { engine } = await harness(t);
      const start = await engine.latestCursor();
      const revs: number[] = [];
      for (let i = 0; i < 5; i++) revs.push((await engine.commit(commitOf(`r${i}@x`, 0, doc([])))).rev);
      const b1 = await engine.readChanges(start, 3, 0);
      const b2 = await engine.readChanges(b1.cursor, 3, 0);
      t.strictSame([...b1.entries, ...b2.entries].map((e) => e.rev), revs);
      t.equal(b2.gap, false);
    });

    t.test('a blocking read wakes for another node’s commit, and answers empty when its time is up', async (t) => {
      const h = await harness(t);
      const reader = h.peer();
      const cursor = await reader.latestCursor();
      const waiting = reader.readChanges(cursor, 10, 5000);
      await h.pass(20);
      const c = await h.engine.commit(commitOf('r@x', 0, doc([])));
      const batch = await waiting;
      t.strictSame(batch.entries.map((e) => e.rev), [c.rev]);
      const idle = reader.readChanges(batch.cursor, 10, 100);
      await h.pass(150);
      const empty = await idle;
      t.strictSame(empty.entries, []);
      t.equal(empty.gap, false);
    });

    t.test('trimmed entries show as a gap to a reader behind them (cluster.md §7, test 9)', async (t) => {
      const h = await harness(t);
      const cursor = await h.engine.latestCursor();
      await h.engine.commit(commitOf('r@x', 0, doc([])));
      await h.trimChanges();
      const nothing = await h.engine.readChanges(cursor, 10, 0);
      t.equal(nothing.gap, true, 'all lost: a gap even with no entry left to read');
      t.strictSame(nothing.entries, []);
      const c = await h.engine.commit(commitOf('s@x', 0, doc([])));
      const after = await h.engine.readChanges(nothing.cursor, 10, 0);
      t.equal(after.gap, false, 'the cursor a gap answered with goes on without a second gap');
      t.strictSame(after.entries.map((e) => e.rev), [c.rev]);
      const behind = await h.engine.readChanges(cursor, 10, 0);
      t.equal(behind.gap, true, 'a reader that missed the trimmed entry sees the gap');
    });

    t.test('an engine that lost its data shows as a gap and a new epoch (cluster.md §8)', async (t) => {
      const h = await harness(t);
      t.equal(await h.engine.epoch('E1'), 'E1');
      t.equal(await h.peer().epoch('E2'), 'E1', 'the first epoch set stays');
      await h.engine.commit(commitOf('r@x', 0, doc([])));
      await h.engine.commit(commitOf('s@x', 0, doc([])));
      const cursor = await h.engine.latestCursor();
      await h.wipe();
      t.equal(await h.engine.epoch('E3'), 'E3');
      await h.engine.commit(commitOf('r@x', 0, doc([])));
      const batch = await h.engine.readChanges(cursor, 10, 0);
      t.equal(batch.gap, true);
    });

    t.test('a shared value is set once and answered to every node; it goes with the data', async (t) => {
      const h = await harness(t);
      t.equal(await h.engine.sharedValue('secret', 'a1'), 'a1', 'the first candidate is set');
      t.equal(await h.peer().sharedValue('secret', 'b2'), 'a1', "another node's candidate does not replace it");
      t.equal(await h.engine.sharedValue('other', 'c3'), 'c3', 'names are separate');
      await h.wipe();
      t.equal(await h.peer().sharedValue('secret', 'b2'), 'b2', 'after a data loss the next candidate is set');
      t.equal(await h.engine.sharedValue('secret', 'a1'), 'b2');
    });

    t.test('the directory lists mirrors by domain and by node, without expired ones, ordered by id', async (t) => {
      const h = await harness(t);
      const now = h.now();
      const e = (id: string, domain: string, node: string, expiresAt: number) => ({ id, domain, node, expiresAt, fields: { callId: id, version: '3' } });
      await h.engine.mirrorSubscription(e('b;1;2', 'x.com', 'n1', now + 60_000));
      await h.peer().mirrorSubscription(e('a;1;2', 'x.com', 'n2', now + 60_000));
      await h.engine.mirrorSubscription(e('c;1;2', 'y.com', 'n1', now + 60_000));
      await h.engine.mirrorSubscription(e('d;1;2', 'x.com', 'n1', now - 1));
      t.strictSame((await h.engine.listDomain('x.com', now)).map((x) => x.id), ['a;1;2', 'b;1;2']);
      t.strictSame((await h.engine.listNode('n1', now)).map((x) => x.id), ['b;1;2', 'c;1;2']);
      t.strictSame((await h.engine.listDomain('x.com', now)).find((x) => x.id === 'a;1;2'), e('a;1;2', 'x.com', 'n2', now + 60_000));
      await h.engine.mirrorSubscription({ ...e('b;1;2', 'x.com', 'n1', now + 90_000), fields: { callId: 'b', version: '19' } });
      t.match((await h.engine.listDomain('x.com', now)).find((x) => x.id === 'b;1;2'), { expiresAt: now + 90_000, fields: { version: '19' } });
      await h.engine.removeSubscription('b;1;2', 'x.com', 'n1');
      await h.engine.removeSubscription('missing', 'x.com', 'n1');
      t.strictSame((await h.engine.listDomain('x.com', now)).map((x) => x.id), ['a;1;2']);
      t.strictSame((await h.engine.listNode('n1', now)).map((x) => x.id), ['c;1;2']);
      t.strictSame(await h.engine.listDomain('z.com', now), []);
    });

    t.test('heartbeats: a node is alive within its TTL, then dead but remembered until forgotten (cluster.md §8)', async (t) => {
      const h = await harness(t);
      const at = h.now();
      await h.engine.heartbeat('n1', { sip: '127.0.0.1:5060' }, 200, at);
      await h.peer().heartbeat('n2', { sip: '127.0.0.1:5062' }, 60_000, at);
      t.strictSame(await h.engine.nodes(), [
        { node: 'n1', lastSeen: at, alive: true, info: { sip: '127.0.0.1:5060' } },
        { node: 'n2', lastSeen: at, alive: true, info: { sip: '127.0.0.1:5062' } },
      ]);
      await h.pass(300);
      t.match(await h.engine.nodes(), [{ node: 'n1', alive: false, lastSeen: at, info: null }, { node: 'n2', alive: true }]);
      await h.engine.forgetNode('n1');
      t.strictSame((await h.engine.nodes()).map((n) => n.node), ['n2']);
    });
  });
}
