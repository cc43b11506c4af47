import t from 'tap';
import { Redis } from 'ioredis';
import { RedisAdminSync } from '../../src/cluster/redis/redis-admin-sync.js';
import { startRedisForFile } from '../support/redis-process.js';
import { adminSyncSuite } from './admin-sync-suite.js';

const server = await startRedisForFile(t);
const admin = new Redis(server.url);
t.teardown(() => void admin.disconnect());
let n = 0;

adminSyncSuite(t, 'redis', async () => {
  const prefix = `t${++n}:pp:`;
  const dropKeys = async (): Promise<void> => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  };
  return {
    open: (maxBlockMs = 200) => new RedisAdminSync({ url: server.url, prefix, maxBlockMs }),
    wipe: dropKeys,
    cleanup: dropKeys,
  };
});

void t.test('redis: Redis stopped, then back empty on the same port: writes made meanwhile are queued, the node re-seeds the whole data, the other node converges', async (t) => {
  const { AdminMirror } = await import('../../src/cluster/node/admin/admin-mirror.js');
  const { MirroredAdminStore } = await import('../../src/cluster/node/admin/mirrored-admin-store.js');
  const { createMemoryStore } = await import('../../src/store/memory/index.js');
  const { SystemClock } = await import('../../src/lib/clock.js');
  const { silentLogger } = await import('../../src/lib/logger.js');
  const { pollUntil } = await import('../support/poll-until.js');
  const { startRedisProcess } = await import('../support/redis-process.js');
  let own = await startRedisProcess();
  const port = own.port;
  const ctx = (node: string) => ({ node, clock: new SystemClock(), logger: silentLogger }) as never;
  const make = () => {
    const store = new MirroredAdminStore(createMemoryStore());
    const mirror = new AdminMirror({ store, engine: new RedisAdminSync({ url: own.url, commandTimeoutMs: 500, maxBlockMs: 200 }), onApplied: () => undefined, retryMs: 100, blockMs: 200 });
    return { store, mirror };
  };
  const n1 = make();
  const n2 = make();
  try {
    await n1.mirror.start(ctx('n1'));
    await n2.mirror.start(ctx('n2'));
    const acc = { id: 'a1', name: 'a', realm: 'one.test', parentId: null, createdAt: 1, updatedAt: 1 };
    n1.store.accounts.put(acc);
    t.ok(await pollUntil(() => n2.store.accounts.get('a1') !== undefined, 5000), 'account reached node 2');
    await own.stop();
    n1.store.devices.put({ id: 'd1', accountId: 'a1', name: 'd', sipUsername: 'd1', sipPasswordHash: 'h', presenceId: null, ownerId: null, createdAt: 1, updatedAt: 1 });
    t.ok(await pollUntil(() => n1.mirror.pending === 1, 5000), 'the write waits in the queue');
    own = await startRedisProcess({ port });
    t.ok(await pollUntil(() => n2.store.devices.get('d1') !== undefined && n1.mirror.pending === 0, 10_000), 'the island write reached node 2');
    t.ok(n2.store.accounts.get('a1'), 'the data from before the loss is still there (re-seeded, not replaced by the queue alone)');
    t.ok(n1.store.accounts.get('a1'));
  } finally {
    await n1.mirror.stop();
    await n2.mirror.stop();
    await own.stop();
  }
});
