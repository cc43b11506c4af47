/** The directory suite on a real redis-server (one per file, a key prefix per test). */
import t from 'tap';
import { Redis } from 'ioredis';
import { RedisClusterEngine } from '../../../src/cluster/redis/redis-cluster-engine.js';
import { SystemClock } from '../../../src/lib/clock.js';
import { startRedisForFile } from '../../support/redis-process.js';
import { directorySuite } from './directory-suite.js';

const server = await startRedisForFile(t);
const admin = new Redis(server.url);
t.teardown(() => void admin.disconnect());
let n = 0;

directorySuite('redis', async () => {
  const prefix = `d${++n}:pp:`;
  const engines: RedisClusterEngine[] = [];
  const dropKeys = async (): Promise<void> => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  };
  const clock = new SystemClock();
  return {
    engine: () => {
      const e = new RedisClusterEngine({ url: server.url, prefix });
      engines.push(e);
      return e;
    },
    clock,
    now: () => clock.now(),
    pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    wipe: dropKeys,
    cleanup: async () => {
      for (const e of engines) await e.close();
      await dropKeys();
    },
  };
});
