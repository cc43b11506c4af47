import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { apiCaller } from '../support/api-call.js';
import { startRedisProcess, type RedisProcess } from '../support/redis-process.js';
import { freePort, removeDir, startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * Cluster mode's first start (issue 22): a node whose first start happens while Redis is unreachable waits for it
 * (PISTON_CLUSTER_START_WAIT_S) before the admin bootstrap decides, so it takes the cluster's accounts instead of making
 * a second master; past the wait it starts as an island and makes its own, as before, with a warning. Digest on: the
 * node also adopts the cluster's nonce secret once Redis answers. One redis-server with an append-only file, stopped
 * and started again on the same port and directory (a Redis that comes back with its data).
 */

const nodes: ServerProcess[] = [];
const redisDir = mkdtempSync(join(tmpdir(), 'piston-redis-keep-'));
let redis: RedisProcess | undefined;

t.teardown(async () => {
  for (const n of nodes) {
    await n.stop();
    removeDir(n.dataDir);
  }
  await redis?.stop();
  rmSync(redisDir, { recursive: true, force: true });
});

const env = (url: string, extra: Record<string, string> = {}): Record<string, string> => ({
  PISTON_CLUSTER_REDIS_URL: url,
  PISTON_WARM_UP_ROUNDS: '0',
  PISTON_SIP_AUTH: 'digest',
  ...extra,
});

function printedKey(n: ServerProcess): string | undefined {
  for (const line of n.lines) {
    const m = /"api_key":"([0-9a-f]{64})"/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

const madeMaster = (n: ServerProcess): boolean => n.lines.some((l) => l.includes('first start: master account and API key created'));

t.test('a first start while Redis is down waits for it, then takes the cluster\'s master account and makes none', async (t) => {
  redis = await startRedisProcess({ appendOnly: true, dir: redisDir });
  const port = redis.port;
  const n1 = await startServerProcess({ env: env(redis.url, { PISTON_NODE_NAME: 'n1' }) });
  nodes.push(n1);
  t.ok(madeMaster(n1), 'node 1 made the master account (an empty cluster)');
  const key = printedKey(n1)!;
  // Node 1's account and key, and its nonce secret, are in Redis before it goes.
  const probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await probe.connect();
  const end = Date.now() + 10_000;
  while (Date.now() < end && ((await probe.hlen('pp:adm:apiKeys')) === 0 || (await probe.exists('pp:shared:sip-nonce-secret')) === 0)) {
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(await probe.hlen('pp:adm:apiKeys'), 1, "node 1's API key is in Redis");
  probe.disconnect();
  await n1.stop();
  await redis.stop();
  redis = undefined;

  // Node 2's first start with Redis down: it must wait, not bootstrap.
  const started = Date.now();
  const apiPort = await freePort();
  const starting = startServerProcess({
    env: env(`redis://127.0.0.1:${port}`, { PISTON_NODE_NAME: 'n2', PISTON_CLUSTER_START_WAIT_S: '30' }),
    apiPort,
    readyTimeoutMs: 60_000,
  });
  void starting.then((n) => nodes.push(n), () => undefined);
  // The listeners open before the bootstrap: once the API answers, the node is at the point where it used to make its
  // master at once. Redis comes back two seconds later.
  const api2 = apiCaller(`http://127.0.0.1:${apiPort}`);
  let listening = false;
  while (!listening && Date.now() - started < 40_000) {
    listening = await api2('GET', '/healthz').then(() => true, () => false);
    if (!listening) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(listening, `node 2 listens after ${Date.now() - started} ms`);
  await new Promise((r) => setTimeout(r, 2000));
  redis = await startRedisProcess({ port, appendOnly: true, dir: redisDir });
  const redisBackMs = Date.now() - started;
  const n2 = await starting;
  const readyMs = Date.now() - started;
  t.ok(n2.lines.some((l) => l.includes('first start: waiting for the cluster engine')), 'node 2 said it waits');
  t.ok(n2.lines.some((l) => l.includes('first start: admin data read from the cluster engine')), 'and that the admin data arrived');
  t.notOk(madeMaster(n2), 'node 2 made no master account of its own');
  t.ok(readyMs >= redisBackMs, `ready only after Redis was back (${redisBackMs} ms), at ${readyMs} ms (load ${loadavg()[0]!.toFixed(1)})`);
  const auth = await apiCaller(`http://127.0.0.1:${n2.apiPort}`)('PUT', '/v2/api_auth', undefined, { api_key: key });
  t.equal(auth.status, 201, "node 1's key gets a token on node 2");
  // The nonce secret node 2 adopted is node 1's, and it is kept in its data directory for a restart without Redis.
  const secretOf = (n: ServerProcess): string => readFileSync(join(n.dataDir, 'sip-nonce-secret'), 'utf8').trim();
  const until = Date.now() + 5000;
  while (Date.now() < until && secretOf(n2) !== secretOf(n1)) await new Promise((r) => setTimeout(r, 100));
  t.equal(secretOf(n2), secretOf(n1), "node 2 holds node 1's nonce secret");
});

t.test('past PISTON_CLUSTER_START_WAIT_S a first start goes on as an island and makes its own master, with a warning', async (t) => {
  const deadPort = await freePort();
  const started = Date.now();
  const n3 = await startServerProcess({
    env: env(`redis://127.0.0.1:${deadPort}`, { PISTON_NODE_NAME: 'n3', PISTON_CLUSTER_START_WAIT_S: '1' }),
    readyTimeoutMs: 30_000,
  });
  nodes.push(n3);
  t.ok(n3.lines.some((l) => l.includes('"level":40') && l.includes('first start without the cluster engine')), 'a warning names the island start');
  t.ok(madeMaster(n3), 'then the first start made a master account locally (as before)');
  t.ok(Date.now() - started >= 1000, `ready after the wait (${Date.now() - started} ms, load ${loadavg()[0]!.toFixed(1)})`);
});
