/**
 * The ClusterEngine contract on the Redis adapter, against a real redis-server started for this file
 * (test/support/redis-process.ts). Each test gets its own key prefix, so tests never see each other's keys.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { RedisClusterEngine } from '../../src/cluster/redis/redis-cluster-engine.js';
import { startRedisForFile } from '../support/redis-process.js';
import { engineContract } from './engine-contract.js';

const server = await startRedisForFile(t);
const admin = new Redis(server.url);
t.teardown(() => void admin.disconnect());
let n = 0;

engineContract('redis', async () => {
  const prefix = `t${++n}:pp:`;
  const engines: RedisClusterEngine[] = [];
  const open = (): RedisClusterEngine => {
    const e = new RedisClusterEngine({ url: server.url, prefix, streamMaxLen: 1000 });
    engines.push(e);
    return e;
  };
  const dropKeys = async (): Promise<void> => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  };
  return {
    engine: open(),
    peer: open,
    now: () => Date.now(),
    pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    trimChanges: async () => void (await admin.xtrim(`${prefix}chg`, 'MAXLEN', 0)),
    wipe: dropKeys,
    cleanup: async () => {
      for (const e of engines) await e.close();
      await dropKeys();
    },
  };
});
