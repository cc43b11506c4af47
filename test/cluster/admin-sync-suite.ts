/**
 * Admin data shared across nodes (issue 22 item 3), run on the in-memory twin and on a real redis-server: the engine's
 * seed-once snapshot and change stream, and AdminMirror over two or three nodes' local stores (memory stores standing
 * for each node's SQLite).
 */
import type { Test } from 'tap';
import { bootstrap } from '../../src/accounts/bootstrap.js';
import { isStoredApiKey } from '../../src/accounts/api-keys.js';
import { emptyAdminRecords, type AdminSyncEngine } from '../../src/cluster/admin-sync-port.js';
import { AdminMirror } from '../../src/cluster/node/admin/admin-mirror.js';
import { MirroredAdminStore } from '../../src/cluster/node/admin/mirrored-admin-store.js';
import type { NodeContext } from '../../src/cluster/node/node-context.js';
import { SystemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMemoryStore } from '../../src/store/memory/index.js';
import type { AccountRecord, AuthTokenRecord, DeviceRecord } from '../../src/store/records.js';
import { pollUntil } from '../support/poll-until.js';

export interface AdminSyncEnv {
  /** `maxBlockMs`: the longest blocking read the engine lets a caller ask for (Redis's link cap; the twin has none). */
  open(maxBlockMs?: number): AdminSyncEngine;
  /** The engine loses every key (a Redis restarted without persistence). */
  wipe(): Promise<void>;
  /** Island mode: every call fails while down (the twin only). */
  setDown?(down: boolean): void;
  cleanup(): Promise<void>;
}

const clock = new SystemClock();

function account(id: string, realm: string, createdAt = 1): AccountRecord {
  return { id, name: id, realm, parentId: null, createdAt, updatedAt: createdAt };
}
function device(id: string, accountId: string): DeviceRecord {
  return { id, accountId, name: id, sipUsername: id, sipPasswordHash: 'h', presenceId: null, ownerId: null, createdAt: 1, updatedAt: 1 };
}
function token(hash: string, accountId: string, lastUsedAt: number): AuthTokenRecord {
  return { tokenHash: hash, accountId, ownerId: null, method: 'api_key', createdAt: 1, lastUsedAt };
}

interface TestNode {
  store: MirroredAdminStore;
  mirror: AdminMirror;
  applied: number;
  /** Snapshots the node's mirror took (its first sync and every resync). */
  snapshots: number;
  /** While set, a read that returns is held until it settles (a reply the network delays). */
  holdReads?: Promise<void>;
  engine: AdminSyncEngine;
}

interface NodeTiming {
  blockMs?: number;
  retryMs?: number;
}

async function startNode(env: AdminSyncEnv, name: string, seed?: (s: MirroredAdminStore) => void, timing: NodeTiming = {}): Promise<TestNode> {
  const store = new MirroredAdminStore(createMemoryStore());
  seed?.(store);
  const blockMs = timing.blockMs ?? 200;
  const inner = env.open(blockMs);
  const node: TestNode = { store, engine: inner, applied: 0, snapshots: 0, mirror: undefined as unknown as AdminMirror };
  const engine: AdminSyncEngine = {
    snapshot: (origin, records) => {
      node.snapshots++;
      return inner.snapshot(origin, records);
    },
    write: (origin, change) => inner.write(origin, change),
    read: async (cursor, count, ms) => {
      const batch = await inner.read(cursor, count, ms);
      await node.holdReads;
      return batch;
    },
    close: () => inner.close(),
  };
  node.mirror = new AdminMirror({ store, engine, onApplied: () => void node.applied++, retryMs: timing.retryMs ?? 30, blockMs });
  const ctx = { node: name, clock, logger: silentLogger } as unknown as NodeContext;
  await node.mirror.start(ctx);
  return node;
}

export function adminSyncSuite(t: Test, name: string, makeEnv: () => Promise<AdminSyncEnv>): void {
  const withEnv = (title: string, fn: (t: Test, env: AdminSyncEnv, nodes: TestNode[]) => Promise<void>): void => {
    void t.test(`${name}: ${title}`, async (t) => {
      const env = await makeEnv();
      const nodes: TestNode[] = [];
      try {
        await fn(t, env, nodes);
      } finally {
        for (const n of nodes) await n.mirror.stop();
        await env.cleanup();
      }
    });
  };

  withEnv('an empty engine is seeded once: the first seed wins, a second one only reads', async (t, env) => {
    const a = env.open();
    const b = env.open();
    try {
      const empty = await a.snapshot('n1');
      t.equal(empty.seeded, false, 'nothing to read and nothing offered');
      const seedA = { accounts: [account('a1', 'one.test')], devices: [], users: [], apiKeys: [], authTokens: [], trustedPeers: [] } as never;
      const seedB = { accounts: [account('b1', 'two.test')], devices: [], users: [], apiKeys: [], authTokens: [], trustedPeers: [] } as never;
      const first = await a.snapshot('n1', seedA);
      t.same(first.records.accounts.map((r) => (r as unknown as AccountRecord).id), ['a1']);
      const second = await b.snapshot('n2', seedB);
      t.equal(second.seeded, true);
      t.same(second.records.accounts.map((r) => (r as unknown as AccountRecord).id), ['a1'], 'the second seed did not replace the first');
      t.equal(second.cursor.rev, 1, 'one seed entry');
    } finally {
      await a.close();
      await b.close();
    }
  });

  withEnv('writes: one entry per change with consecutive revs; deletes and operations apply in the engine', async (t, env) => {
    const a = env.open();
    try {
      t.equal(await a.write('n1', { op: 'put', kind: 'accounts', key: 'a0', record: account('a0', 'zero.test') as never }), 0, 'an unseeded engine takes no single write');
      const start = await a.snapshot('n1', { ...emptyAdminRecords(), accounts: [account('a1', 'one.test') as never] });
      t.equal(start.seededNow, true);
      await a.write('n1', { op: 'put', kind: 'devices', key: 'd1', record: device('d1', 'a1') as never });
      await a.write('n1', { op: 'put', kind: 'devices', key: 'd2', record: device('d2', 'a1') as never });
      await a.write('n1', { op: 'delete', kind: 'devices', key: 'd1' });
      await a.write('n1', { op: 'put', kind: 'authTokens', key: 't1', record: token('t1', 'a1', 100) as never });
      await a.write('n1', { op: 'put', kind: 'authTokens', key: 't2', record: token('t2', 'a1', 500) as never });
      await a.write('n1', { op: 'deleteIdle', kind: 'authTokens', cutoff: 100 });
      const batch = await a.read(start.cursor, 100, 0);
      t.same(batch.entries.map((e) => e.rev), [2, 3, 4, 5, 6, 7]);
      t.equal(batch.gap, false);
      t.same(batch.entries[2]!.change, { op: 'delete', kind: 'devices', key: 'd1' });
      const snap = await a.snapshot('n1');
      t.same(snap.records.devices.map((r) => (r as unknown as DeviceRecord).id), ['d2'], 'd1 deleted');
      t.same(snap.records.authTokens.map((r) => (r as unknown as AuthTokenRecord).tokenHash), ['t2'], 'the token idle at the cutoff went');
      await a.write('n1', { op: 'deleteByAccount', kind: 'devices', accountId: 'a1' });
      t.same((await a.snapshot('n1')).records.devices, [], 'deleteByAccount');
    } finally {
      await a.close();
    }
  });

  withEnv('a wiped engine shows as a gap to a reader', async (t, env) => {
    const a = env.open();
    try {
      const snap = await a.snapshot('n1', { ...emptyAdminRecords(), accounts: [account('a1', 'one.test') as never] });
      await env.wipe();
      const batch = await a.read(snap.cursor, 10, 50);
      t.equal(batch.gap, true);
    } finally {
      await a.close();
    }
  });

  withEnv("the first node's bootstrap account and key become the cluster's; a later first start makes no second master", async (t, env, nodes) => {
    const n1 = await startNode(env, 'n1');
    nodes.push(n1);
    const boot1 = bootstrap(n1.store, { clock });
    t.equal(boot1.created, true);
    t.ok(await pollUntil(() => n1.mirror.pending === 0, 3000), 'sent');
    const n2 = await startNode(env, 'n2');
    nodes.push(n2);
    const boot2 = bootstrap(n2.store, { clock });
    t.equal(boot2.created, false, 'node 2 saw the shared account at its first start');
    t.equal(boot2.accountId, boot1.accountId);
    t.ok(isStoredApiKey(n2.store, boot1.apiKey!), "node 1's key is valid on node 2");
    t.equal(n2.store.accounts.count(), 1);
  });

  withEnv('at start the engine wins over local data; an empty engine is seeded from the local data', async (t, env, nodes) => {
    const n1 = await startNode(env, 'n1', (s) => s.local.accounts.put(account('a1', 'one.test')));
    nodes.push(n1);
    const n2 = await startNode(env, 'n2', (s) => {
      s.local.accounts.put(account('b1', 'two.test'));
      s.local.devices.put(device('bd', 'b1'));
    });
    nodes.push(n2);
    t.same(n2.store.accounts.loadAll().map((a) => a.id), ['a1'], "node 2's own account is replaced by the cluster's");
    t.equal(n2.store.devices.get('bd'), undefined, 'with its devices');
    t.ok(n2.applied > 0, 'the caches were told');
  });

  withEnv('writes on one node reach the others; deletions propagate; operations apply everywhere', async (t, env, nodes) => {
    const [n1, n2, n3] = [await startNode(env, 'n1'), await startNode(env, 'n2'), await startNode(env, 'n3')];
    nodes.push(n1, n2, n3);
    n1.store.accounts.put(account('a1', 'one.test'));
    n1.store.devices.put(device('d1', 'a1'));
    t.ok(await pollUntil(() => n2.store.devices.get('d1') !== undefined && n3.store.devices.get('d1') !== undefined, 3000), 'device on 2 and 3');
    n2.store.trustedPeers.put({ id: 'p1', accountId: 'a1', cidr: '10.0.0.1/32', transport: null, fingerprint: null, name: null, createdAt: 1, updatedAt: 1 });
    t.ok(await pollUntil(() => n1.store.trustedPeers.get('p1') !== undefined, 3000), 'peer added on 2 is on 1');
    n1.store.devices.delete('d1');
    t.ok(await pollUntil(() => n2.store.devices.get('d1') === undefined && n3.store.devices.get('d1') === undefined, 3000), 'device deleted everywhere');
    n3.store.authTokens.put(token('t1', 'a1', 100));
    n3.store.authTokens.put(token('t2', 'a1', 900));
    t.ok(await pollUntil(() => n1.store.authTokens.get('t2') !== undefined, 3000));
    // A token used on node 3 is used for node 1 too: its idle clock is the cluster's.
    n3.store.authTokens.put(token('t1', 'a1', 1000));
    t.ok(await pollUntil(() => n1.store.authTokens.get('t1')?.lastUsedAt === 1000, 3000), 'the touch reached node 1');
    t.equal(n1.store.authTokens.deleteIdle(950), 1, 'only t2 is idle');
    t.ok(await pollUntil(() => n3.store.authTokens.get('t2') === undefined, 3000), 'the idle sweep propagated');
    t.ok(n3.store.authTokens.get('t1'), 'the touched token stays');
    n2.store.trustedPeers.deleteByAccount('a1');
    t.ok(await pollUntil(() => n1.store.trustedPeers.findByAccount('a1').length === 0, 3000), 'deleteByAccount propagated');
  });

  withEnv('a lost engine is re-seeded at the epoch change, not when the blocking read ends; the read begun before is dropped (one snapshot per node)', async (t, env, nodes) => {
    // Reads block 5 s, as in production: a resync that waited for them would take that long.
    const slow = { blockMs: 5000 };
    const [n1, n2] = [await startNode(env, 'n1', undefined, slow), await startNode(env, 'n2', undefined, slow)];
    nodes.push(n1, n2);
    n1.store.accounts.put(account('a1', 'one.test'));
    n1.store.devices.put(device('d1', 'a1'));
    t.ok(await pollUntil(() => n2.store.devices.get('d1') !== undefined, 3000), 'node 2 has the data');
    // Both loops are now in a blocking read on the cursor of the data about to be lost. Its answer is held until both
    // nodes resynced: the order in which a late reply lands after the resync.
    await new Promise((resolve) => setTimeout(resolve, 100));
    let release!: () => void;
    n1.holdReads = n2.holdReads = new Promise<void>((resolve) => (release = resolve));
    const before = [n1.snapshots, n2.snapshots];
    await env.wipe();
    const lostAt = Date.now();
    n1.mirror.onEpochChange();
    n2.mirror.onEpochChange();
    t.ok(await pollUntil(() => n1.mirror.isSynced && n2.mirror.isSynced, 2000), 'both nodes resynced');
    const took = Date.now() - lostAt;
    t.ok(took < 2000, `resynced in ${took} ms, well inside the 5 s blocking read`);
    const probe = env.open();
    const snap = await probe.snapshot('probe');
    await probe.close();
    t.equal(snap.seeded, true, 'the engine holds admin data again');
    t.same(snap.records.devices.map((r) => (r as unknown as DeviceRecord).id), ['d1'], 'the whole data, re-seeded by one node');
    n1.holdReads = n2.holdReads = undefined;
    release();
    // Time for a late reply that was not dropped to force a second resync.
    await new Promise((resolve) => setTimeout(resolve, 300));
    n2.store.devices.put(device('d2', 'a1'));
    t.ok(await pollUntil(() => n1.store.devices.get('d2') !== undefined, 2000), "node 1 reads node 2's next write from the new cursor at once");
    t.same([n1.snapshots - before[0]!, n2.snapshots - before[1]!], [1, 1], 'one snapshot each: the read that returned afterwards neither applied old entries nor forced a second resync');
  });

  withEnv("after a re-seed the revs start again: a node's own writes from before the loss do not hide another node's later change of the same record", async (t, env, nodes) => {
    const [n1, n2] = [await startNode(env, 'n1', undefined, { blockMs: 5000 }), await startNode(env, 'n2', undefined, { blockMs: 5000 })];
    nodes.push(n1, n2);
    n1.store.accounts.put(account('a1', 'one.test'));
    t.ok(await pollUntil(() => n2.store.accounts.get('a1') !== undefined, 3000));
    // Node 1 does not read its own entries back before the loss (its reply held), so it still remembers their revs.
    let release!: () => void;
    n1.holdReads = new Promise<void>((resolve) => (release = resolve));
    for (let i = 0; i < 5; i++) n1.store.devices.put({ ...device('d1', 'a1'), name: `v${i}` });
    t.ok(await pollUntil(() => n1.mirror.pending === 0 && n2.store.devices.get('d1')?.name === 'v4', 3000), 'written, node 2 has them');
    await env.wipe();
    n1.mirror.onEpochChange();
    t.ok(await pollUntil(() => n1.mirror.isSynced, 3000), 'node 1 re-seeded');
    n2.mirror.onEpochChange();
    t.ok(await pollUntil(() => n2.mirror.isSynced, 3000), 'node 2 resynced');
    n1.holdReads = undefined;
    release();
    n2.store.devices.put({ ...device('d1', 'a1'), name: 'from n2' });
    t.ok(await pollUntil(() => n1.store.devices.get('d1')?.name === 'from n2', 3000), "node 1 applies node 2's change (a small rev of the new data)");
  });

  withEnv('tokens are in the seed: a token made before the engine lost its data is valid on a node that starts after the re-seed', async (t, env, nodes) => {
    const n1 = await startNode(env, 'n1');
    nodes.push(n1);
    n1.store.accounts.put(account('a1', 'one.test'));
    n1.store.authTokens.put(token('t1', 'a1', 100));
    t.ok(await pollUntil(() => n1.mirror.pending === 0, 3000), 'sent');
    await env.wipe();
    n1.mirror.onEpochChange();
    t.ok(await pollUntil(() => n1.mirror.isSynced, 3000), 're-seeded');
    const probe = env.open();
    const snap = await probe.snapshot('probe');
    await probe.close();
    t.same(snap.records.authTokens, [token('t1', 'a1', 100)], 'the token record (its hash, account and times) is in the engine again');
    const n2 = await startNode(env, 'n2');
    nodes.push(n2);
    t.same(n2.store.authTokens.get('t1'), token('t1', 'a1', 100), 'a node starting now finds it: API clients keep their tokens');
  });

  if (name === 'memory') {
    withEnv('on return from island mode the node resyncs at once, not after its retry pause', async (t, env, nodes) => {
      const n1 = await startNode(env, 'n1', undefined, { blockMs: 5000, retryMs: 5000 });
      nodes.push(n1);
      n1.store.accounts.put(account('a1', 'one.test'));
      t.ok(await pollUntil(() => n1.mirror.pending === 0, 3000));
      env.setDown!(true);
      n1.store.devices.put(device('d1', 'a1'));
      t.ok(await pollUntil(() => !n1.mirror.isSynced, 3000), 'the failed write put the node in island mode');
      env.setDown!(false);
      const backAt = Date.now();
      n1.mirror.onReturn();
      t.ok(await pollUntil(() => n1.mirror.isSynced && n1.mirror.pending === 0, 2000), 'queue sent and resynced');
      t.ok(Date.now() - backAt < 2000, `in ${Date.now() - backAt} ms, inside the 5 s retry pause`);
    });

    withEnv('island mode: writes are queued and replayed in order on return; the other nodes converge', async (t, env, nodes) => {
      const [n1, n2] = [await startNode(env, 'n1'), await startNode(env, 'n2')];
      nodes.push(n1, n2);
      n1.store.accounts.put(account('a1', 'one.test'));
      t.ok(await pollUntil(() => n2.store.accounts.get('a1') !== undefined, 3000));
      env.setDown!(true);
      n1.store.devices.put(device('d1', 'a1'));
      n1.store.devices.put({ ...device('d1', 'a1'), name: 'renamed' });
      n1.store.devices.put(device('d2', 'a1'));
      n1.store.devices.delete('d2');
      t.equal(n1.mirror.pending, 4, 'queued');
      t.equal(n1.store.devices.get('d1')?.name, 'renamed', 'the local store answers at once');
      env.setDown!(false);
      t.ok(await pollUntil(() => n2.store.devices.get('d1')?.name === 'renamed', 3000), 'replayed');
      t.equal(n2.store.devices.get('d2'), undefined, 'the deletion came after the put');
      t.equal(n1.mirror.pending, 0);
    });

    withEnv('a lost engine is seeded again from a node, and the others keep the same data', async (t, env, nodes) => {
      const [n1, n2] = [await startNode(env, 'n1'), await startNode(env, 'n2')];
      nodes.push(n1, n2);
      n1.store.accounts.put(account('a1', 'one.test'));
      n1.store.devices.put(device('d1', 'a1'));
      t.ok(await pollUntil(() => n2.store.devices.get('d1') !== undefined, 3000));
      await env.wipe();
      n1.mirror.onEpochChange();
      n2.mirror.onEpochChange();
      t.ok(await pollUntil(() => n1.mirror.isSynced && n2.mirror.isSynced, 3000));
      const probe = env.open();
      t.ok(await pollUntil(() => true, 300));
      const snap = await probe.snapshot('probe');
      await probe.close();
      t.same(snap.records.devices.map((r) => (r as unknown as DeviceRecord).id), ['d1'], 'the engine has the data again');
      t.ok(n2.store.devices.get('d1'), 'node 2 kept it');
    });
  }
}
