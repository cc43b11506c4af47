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
    open: () => new RedisAdminSync({ url: server.url, prefix, maxBlockMs: 200 }),
    wipe: dropKeys,
    cleanup: dropKeys,
  };
});
