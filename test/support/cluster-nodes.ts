/**
 * Three built nodes over one redis-server on loopback, for the cluster's end-to-end files (cluster.md §9): each node
 * with its own free SIP/API ports and temporary data directory, all stopped by PID when the file is done. A node can
 * be restarted on its ports and data directory (node death and restart); the Redis can be replaced on its port.
 * Also the small SIP and API helpers those files share.
 */
import type { Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { startRedisProcess, type RedisProcess } from './redis-process.js';
import { startServerProcess, removeDir, type ServerProcess } from './server-process.js';
import { SipEndpoint, type DialogPublication } from './sip-watcher.js';
import type { WireMessage } from './sip-wire.js';
import { apiCaller, type ApiCall } from './api-call.js';

/** Every node's API key (the bootstrap key), so any node answers the same client. */
export const CLUSTER_API_KEY = 'c7'.repeat(32);
/** The node names, in order: `nodes[i]` is `NODE_NAMES[i]`. */
export const NODE_NAMES = ['n1', 'n2', 'n3'] as const;

export interface ClusterNodes {
  /** The current redis-server (a test that stops it may put a fresh one here). */
  redis: RedisProcess;
  /** n1, n2, n3; `restart(i)` replaces an entry. */
  readonly nodes: ServerProcess[];
  /** A UDP endpoint towards `node`'s SIP port, closed with the cluster. */
  endpoint(node: ServerProcess): Promise<SipEndpoint>;
  /** Starts node `i` again on its SIP and API ports and its data directory, after it stopped or was killed. */
  restart(i: number): Promise<ServerProcess>;
  /** Stops endpoints, nodes and Redis, and removes the nodes' directories. */
  stop(): Promise<void>;
}

function nodeEnv(redisUrl: string, name: string, extra: Record<string, string>): Record<string, string> {
  return {
    PISTON_CLUSTER_REDIS_URL: redisUrl, PISTON_NODE_NAME: name, PISTON_WARM_UP_ROUNDS: '0', PISTON_PUBLISH_MIN_EXPIRES: '1',
    // Each node's API with a known key, its realm the loopback address the phones dial (the list is by realm).
    PISTON_BOOTSTRAP_API_KEY: CLUSTER_API_KEY, PISTON_BOOTSTRAP_REALM: '127.0.0.1',
    ...extra,
  };
}

/** One Redis and three nodes; `env` is added to every node's environment. */
export async function startClusterNodes(env: Record<string, string> = {}): Promise<ClusterNodes> {
  const redis = await startRedisProcess();
  const nodes: ServerProcess[] = [];
  const endpoints: SipEndpoint[] = [];
  const cluster: ClusterNodes = {
    redis,
    nodes,
    async endpoint(node) {
      const ep = await SipEndpoint.udp(node.sipPort);
      endpoints.push(ep);
      return ep;
    },
    async restart(i) {
      const old = nodes[i]!;
      const next = await startServerProcess({
        env: nodeEnv(cluster.redis.url, NODE_NAMES[i]!, env),
        dataDir: old.dataDir,
        sipPort: old.sipPort,
        apiPort: old.apiPort,
      });
      nodes[i] = next;
      return next;
    },
    async stop() {
      for (const ep of endpoints) await ep.close();
      for (const n of nodes) {
        await n.stop();
        removeDir(n.dataDir);
      }
      await cluster.redis.stop();
    },
  };
  try {
    for (const name of NODE_NAMES) nodes.push(await startServerProcess({ env: nodeEnv(redis.url, name, env) }));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

export const token = (): string => randomBytes(5).toString('hex');
export const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** One dialog of a dialog-info PUBLISH (RFC 4235), in `state`. */
export const dialogIn = (state: string): DialogPublication => ({ id: `d-${token()}`, callId: `c-${token()}`, localTag: 'l', remoteTag: 'r', state, direction: 'recipient' });

/** The dialog state a NOTIFY's body shows (the first dialog's), or "idle (no dialog)". */
export const stateOf = (n: WireMessage | undefined): string => /<state>([^<]*)<\/state>/.exec(n?.body ?? '')?.[1] ?? 'idle (no dialog)';

/** A watcher of `resource` on `ep`'s node, after its first NOTIFY arrived within `ms`; answers the Call-ID. */
export async function watchResource(t: Test, ep: SipEndpoint, resource: string, ms: number): Promise<string> {
  const sub = await ep.subscribe({ resource, user: `w${token()}`, event: 'dialog', expires: 600 });
  t.equal(sub.response.status, 200, `SUBSCRIBE to ${resource} accepted`);
  t.ok(await ep.waitUntil(() => ep.transactions(sub.callId).length >= 1, ms), 'first NOTIFY arrived');
  return sub.callId;
}

/** PUBLISH written out, for a refresh without a body or a removal (RFC 3903 §4.3, §4.5), to the node at `port`. */
export function publishRefreshText(ep: SipEndpoint, port: number, o: { resource: string; etag: string; expires: number }): string {
  return ep.publishText(o, port);
}

/** An API session on a node: a token from the cluster's key, and the account it belongs to. */
export interface ApiSession {
  call: ApiCall;
  token: string;
  accountId: string;
}

/** `PUT /v2/api_auth` with the cluster's key on `node`; throws unless 201. */
export async function apiSession(node: ServerProcess): Promise<ApiSession> {
  const call = apiCaller(`http://127.0.0.1:${node.apiPort}`);
  const auth = await call('PUT', '/v2/api_auth', undefined, { api_key: CLUSTER_API_KEY });
  if (auth.status !== 201) throw new Error(`api_auth on ${node.apiPort}: ${auth.status} ${JSON.stringify(auth.body)}`);
  return { call, token: auth.body.auth_token as string, accountId: auth.body.data.account_id as string };
}

/** The dialog watchers of `resource` the list on the session's node shows, by Call-ID (api-contract.md `GET …/presence`). */
export async function listedDialogWatchers(s: ApiSession, resource: string): Promise<Record<string, Record<string, unknown>>> {
  const listed = await s.call('GET', `/v2/accounts/${s.accountId}/presence`, s.token);
  if (listed.status !== 200) throw new Error(`presence list: ${listed.status} ${JSON.stringify(listed.body)}`);
  return (listed.body.data.subscriptions?.[resource]?.dialog ?? {}) as Record<string, Record<string, unknown>>;
}

/** Polls `check` every 200 ms until it holds or `ms` passed; answers the elapsed time, or null on timeout. */
export async function within(ms: number, check: () => Promise<boolean>): Promise<number | null> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > ms) return null;
    await sleep(200);
  }
}
