import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { apiCaller } from '../support/api-call.js';
import { startRedisProcess, type RedisProcess } from '../support/redis-process.js';
import { startServerProcess, removeDir, type ServerProcess } from '../support/server-process.js';
import { SipEndpoint } from '../support/sip-watcher.js';
import type { WireMessage } from '../support/sip-wire.js';

/**
 * Admin data shared across a cluster (issue 22 item 3): one redis-server and three built nodes on loopback, digest
 * authentication on. The API key node 1's first start prints gets a token on node 3 (and nodes 2 and 3 make no master
 * account of their own); a device made on node 1 authenticates a SUBSCRIBE with digest on node 2 (RFC 3261 §22.4,
 * RFC 2617 §3.2.2); a trusted peer added on node 2 is trusted on node 1; a deleted device stops authenticating on the
 * other nodes within seconds. Limits are generous for a shared machine; measured times are printed.
 */

const SPREAD_MS = 5000;
const token = (): string => randomBytes(5).toString('hex');
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

let redis: RedisProcess;
const nodes: ServerProcess[] = [];
const endpoints: SipEndpoint[] = [];

t.before(async () => {
  redis = await startRedisProcess();
  for (const name of ['n1', 'n2', 'n3']) {
    nodes.push(
      await startServerProcess({
        env: {
          PISTON_CLUSTER_REDIS_URL: redis.url,
          PISTON_NODE_NAME: name,
          PISTON_WARM_UP_ROUNDS: '0',
          PISTON_SIP_AUTH: 'digest',
          PISTON_BOOTSTRAP_REALM: '127.0.0.1',
        },
      }),
    );
    // Node 1's first start (its account and key) is in Redis before node 2 starts.
    if (name === 'n1') await nodes[0]!.waitForLog(/first start/);
  }
});

t.teardown(async () => {
  for (const ep of endpoints) await ep.close();
  for (const n of nodes) {
    await n.stop();
    removeDir(n.dataDir);
  }
  await redis.stop();
});

const api = (n: ServerProcess) => apiCaller(`http://127.0.0.1:${n.apiPort}`);

async function endpoint(node: ServerProcess): Promise<SipEndpoint> {
  const ep = await SipEndpoint.udp(node.sipPort);
  endpoints.push(ep);
  return ep;
}

/** The first start's API key, from the token command node 1 printed on standard error. */
function printedKey(n: ServerProcess): string | undefined {
  for (const line of n.lines) {
    const m = /"api_key":"([0-9a-f]{64})"/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

function param(header: string, name: string): string | undefined {
  return new RegExp(`${name}="?([^",]+)"?`).exec(header)?.[1];
}

/**
 * A SUBSCRIBE answered 401, then again with the device's digest credentials (qop=auth); the final answer. With
 * `answerOn` the second SUBSCRIBE goes to another node (the challenge's nonce is the first node's).
 */
async function digestSubscribe(
  ep: SipEndpoint,
  port: number,
  o: { resource: string; user: string; password: string },
  answerOn?: { ep: SipEndpoint; port: number },
): Promise<{ first: WireMessage; second?: WireMessage }> {
  const callId = `${token()}@piston-e2e-admin`;
  const fromTag = token();
  const base = { resource: o.resource, user: o.user, event: 'dialog', expires: 120, callId, fromTag };
  const first = await ep.request(ep.subscribeText(base));
  if (first.status !== 401) return { first };
  const challenge = first.header('www-authenticate') ?? '';
  const realm = param(challenge, 'realm')!;
  const nonce = param(challenge, 'nonce')!;
  const to = answerOn ?? { ep, port };
  const uri = `sip:${o.resource}@127.0.0.1:${to.port}`;
  const cnonce = token();
  const nc = '00000001';
  const ha1 = md5(`${o.user}:${realm}:${o.password}`);
  const ha2 = md5(`SUBSCRIBE:${uri}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  const auth =
    `Authorization: Digest username="${o.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", ` +
    `response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
  const text = to.ep.subscribeText({ ...base, cseq: 2 }).replace('Content-Length: 0', `${auth}\r\nContent-Length: 0`);
  return { first, second: await to.ep.request(text) };
}

let tokenN3 = '';
let accountId = '';

t.test("the API key printed by node 1's first start gets a token on node 3; no other node made a master account", async (t) => {
  const key = printedKey(nodes[0]!);
  t.ok(key, 'node 1 printed a key');
  const auth = await api(nodes[2]!)('PUT', '/v2/api_auth', undefined, { api_key: key });
  t.equal(auth.status, 201, `token on node 3 (${JSON.stringify(auth.body).slice(0, 200)})`);
  tokenN3 = auth.body.auth_token as string;
  accountId = auth.body.data.account_id as string;
  t.notOk(nodes[1]!.lines.some((l) => l.includes('first start')), 'node 2: no first start');
  t.notOk(nodes[2]!.lines.some((l) => l.includes('first start')), 'node 3: no first start');
  // The token made on node 3 works on node 1 too (tokens are shared as their hashes).
  let status = 0;
  const end = Date.now() + SPREAD_MS;
  while (Date.now() < end && status !== 200) {
    status = (await api(nodes[0]!)('GET', `/v2/accounts/${accountId}`, tokenN3)).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(status, 200, "node 3's token is accepted on node 1");
});

let deviceId = '';

t.test('a device made on node 1 with a SIP password authenticates a SUBSCRIBE with digest on node 2 (RFC 3261 §22.4)', async (t) => {
  const made = await api(nodes[0]!)('PUT', `/v2/accounts/${accountId}/devices`, tokenN3, { name: 'desk', sip: { username: '3001', password: 'sip-secret-3001' } });
  t.equal(made.status, 201, 'device created on node 1');
  deviceId = made.body.data.id as string;
  const ep = await endpoint(nodes[1]!);
  const sent = Date.now();
  let last: { first: WireMessage; second?: WireMessage } | undefined;
  while (Date.now() - sent < SPREAD_MS) {
    last = await digestSubscribe(ep, nodes[1]!.sipPort, { resource: '3101', user: '3001', password: 'sip-secret-3001' });
    if (last.second?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(last?.first.status, 401, 'challenged first');
  t.equal(last?.second?.status, 200, `200 with the device's credentials on node 2 after ${Date.now() - sent} ms (load ${loadavg()[0]!.toFixed(1)})`);
});

t.test("a 401 challenge from node 1 answered on node 2 is accepted: the nonce secret is the cluster's (RFC 3261 §22.4)", async (t) => {
  const on1 = await endpoint(nodes[0]!);
  const on2 = await endpoint(nodes[1]!);
  const r = await digestSubscribe(on1, nodes[0]!.sipPort, { resource: '3101', user: '3001', password: 'sip-secret-3001' }, { ep: on2, port: nodes[1]!.sipPort });
  t.equal(r.first.status, 401, 'node 1 challenged');
  t.equal(r.second?.status, 200, "node 2 accepted the answer to node 1's nonce");
});

t.test('a deleted device stops authenticating on the other nodes within seconds', async (t) => {
  for (const [i, n] of [[1, nodes[0]!], [2, nodes[1]!]] as const) {
    const r = await digestSubscribe(await endpoint(n), n.sipPort, { resource: '3101', user: '3001', password: 'sip-secret-3001' });
    t.equal(r.second?.status, 200, `node ${i} authenticates the device before the deletion`);
  }
  const gone = await api(nodes[2]!)('DELETE', `/v2/accounts/${accountId}/devices/${deviceId}`, tokenN3);
  t.equal(gone.status, 200, 'deleted on node 3');
  const deleted = Date.now();
  for (const [i, n] of [[1, nodes[0]!], [2, nodes[1]!]] as const) {
    const ep = await endpoint(n);
    let status = 0;
    while (Date.now() - deleted < SPREAD_MS) {
      const r = await digestSubscribe(ep, n.sipPort, { resource: '3101', user: '3001', password: 'sip-secret-3001' });
      status = r.second?.status ?? r.first.status ?? 0;
      if (status !== 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.not(status, 200, `node ${i}: refused ${Date.now() - deleted} ms after the deletion (${status})`);
  }
  t.ok(Date.now() - deleted < SPREAD_MS);
});

t.test('a trusted peer added on node 2 is trusted on node 1 (security.md §3.3: no challenge)', async (t) => {
  const ep = await endpoint(nodes[0]!);
  const before = await ep.subscribe({ resource: '3102', user: 'pbx', expires: 60 });
  t.equal(before.response.status, 401, 'node 1 challenges 127.0.0.1 before');
  const added = await api(nodes[1]!)('PUT', `/v2/accounts/${accountId}/trusted_peers`, tokenN3, { cidr: '127.0.0.1/32' });
  t.equal(added.status, 201, `peer added on node 2 (${JSON.stringify(added.body).slice(0, 200)})`);
  const at = Date.now();
  let status = 0;
  while (Date.now() - at < SPREAD_MS) {
    status = (await ep.subscribe({ resource: '3102', user: 'pbx', expires: 60 })).response.status ?? 0;
    if (status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(status, 200, `node 1 accepts the peer without a challenge after ${Date.now() - at} ms`);
});
