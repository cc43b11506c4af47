/**
 * How long a cluster node that is not starting for the first time takes to serve phones while its Redis is down
 * (issue 22): `npm run build && node --import=@tapjs/typescript/import bench/cluster-start.ts [--runs N]`
 * (run from the sources: test/support finds the built server from there).
 * Each run prepares a data directory with an account (one start in cluster mode with Redis up, then a clean stop),
 * then starts the built server (dist/src/main.js) on that directory three times:
 *   - up:      Redis answering (the reference);
 *   - refused: PISTON_CLUSTER_REDIS_URL at the same loopback port with nothing listening (connections refused);
 *   - frozen:  at a redis-server that is SIGSTOPped (connections open, nothing answers: the harder case).
 * For each it prints the time from spawn to the "ready" log line and to the first SUBSCRIBE answered (one SUBSCRIBE
 * every 100 ms over UDP from the spawn on, each given 150 ms), and the load average: one JSON line per start.
 * `--digest` turns digest on (the nonce secret's part starts too; a 401 then counts as answered), `--log` prints
 * each start's log lines with their ms since the spawn.
 */
import { loadavg } from 'node:os';
import { startRedisProcess, type RedisProcess } from '../test/support/redis-process.js';
import { freePort, removeDir, startServerProcess, type ServerProcess } from '../test/support/server-process.js';
import { SipEndpoint } from '../test/support/sip-watcher.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('--runs', 1);
/** `--digest`: PISTON_SIP_AUTH=digest, so the shared nonce secret part starts too (the probes then get 401s). */
const DIGEST = process.argv.includes('--digest');
/** `--log`: print each start's log lines (ms since spawn) after its figures. */
const LOG = process.argv.includes('--log');
const READY_LIMIT_MS = 60_000;

const nodeEnv = (url: string): Record<string, string> => ({
  PISTON_CLUSTER_REDIS_URL: url,
  PISTON_NODE_NAME: 'bench-n1',
  PISTON_WARM_UP_ROUNDS: '0',
  PISTON_BOOTSTRAP_API_KEY: 'b5'.repeat(32),
  PISTON_BOOTSTRAP_REALM: '127.0.0.1',
  ...(DIGEST ? { PISTON_SIP_AUTH: 'digest' } : {}),
});

interface StartTimes {
  readyMs: number;
  subscribeMs: number | null;
  islandWarning: boolean;
}

/** Spawns the node on `dataDir` and its ports and times it until it answers a SUBSCRIBE (or READY_LIMIT_MS). */
async function timeStart(url: string, dataDir: string, sipPort: number, apiPort: number): Promise<{ node: ServerProcess; times: StartTimes }> {
  const ep = await SipEndpoint.udp(sipPort);
  const spawnedAt = Date.now();
  let subscribeMs: number | null = null;
  let done = false;
  const probing = (async () => {
    let i = 0;
    while (!done && Date.now() - spawnedAt < READY_LIMIT_MS) {
      const sent = Date.now();
      const answered = await ep.subscribe({ resource: `probe${i++}`, user: 'bench', event: 'dialog', expires: 60 }, 150).then(
        (s) => s.response.status === 200 || (DIGEST && s.response.status === 401),
        () => false,
      );
      if (answered) {
        subscribeMs = Date.now() - spawnedAt;
        return;
      }
      const left = 100 - (Date.now() - sent);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    }
  })();
  try {
    const node = await startServerProcess({ env: nodeEnv(url), dataDir, sipPort, apiPort, readyTimeoutMs: READY_LIMIT_MS });
    const readyMs = Date.now() - spawnedAt;
    await probing;
    const islandWarning = node.lines.some((l) => l.includes('"level":40') && l.includes('island'));
    if (LOG) {
      for (const line of node.lines) {
        const time = /"time":(\d+)/.exec(line)?.[1];
        console.log(`  ${time === undefined ? '' : `+${Number(time) - spawnedAt} ms `}${line.slice(0, 240)}`);
      }
    }
    return { node, times: { readyMs, subscribeMs, islandWarning } };
  } finally {
    done = true;
    await probing;
    await ep.close();
  }
}

async function prepare(redis: RedisProcess): Promise<{ dataDir: string; sipPort: number; apiPort: number }> {
  const first = await startServerProcess({ env: nodeEnv(redis.url) });
  await first.stop();
  return { dataDir: first.dataDir, sipPort: first.sipPort, apiPort: first.apiPort };
}

async function run(round: number): Promise<void> {
  const redisPort = await freePort();
  let redis: RedisProcess | undefined = await startRedisProcess({ port: redisPort });
  let node: ServerProcess | undefined;
  let dataDir: string | undefined;
  try {
    const prepared = await prepare(redis);
    dataDir = prepared.dataDir;
    const { sipPort, apiPort } = prepared;
    // Reference: the same start with Redis up.
    let r = await timeStart(redis.url, dataDir, sipPort, apiPort);
    node = r.node;
    console.log(JSON.stringify({ round, case: 'up', ...r.times, load: loadavg().map((x) => x.toFixed(2)) }));
    await node.stop();
    node = undefined;
    // Refused: the port where Redis was, nothing listening now.
    await redis.stop();
    redis = undefined;
    r = await timeStart(`redis://127.0.0.1:${redisPort}`, dataDir, sipPort, apiPort);
    node = r.node;
    console.log(JSON.stringify({ round, case: 'refused', ...r.times, load: loadavg().map((x) => x.toFixed(2)) }));
    await node.stop();
    node = undefined;
    // Frozen: a Redis that accepts connections and never answers.
    redis = await startRedisProcess({ port: redisPort });
    redis.pause();
    r = await timeStart(redis.url, dataDir, sipPort, apiPort);
    node = r.node;
    console.log(JSON.stringify({ round, case: 'frozen', ...r.times, load: loadavg().map((x) => x.toFixed(2)) }));
  } finally {
    await node?.stop();
    if (redis) {
      redis.resume();
      await redis.stop();
    }
    if (dataDir !== undefined) removeDir(dataDir);
  }
}

for (let i = 1; i <= RUNS; i++) await run(i);
