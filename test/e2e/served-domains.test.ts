import t from 'tap';
import { startServerForFile } from '../support/server-process.js';
import { SipEndpoint, type SubscribeResult } from '../support/sip-watcher.js';

/**
 * Issue 17, the realm trap, over real SIP on UDP to the built server: what an account serves it must also list and
 * reset. The master account's realm is pbx.example.com while the phone subscribes at 127.0.0.1 (the Quickstart's
 * SIPp watcher); the master, as default account, serves 127.0.0.1 because no other account claims it. A second
 * account claiming other.example neither sees nor resets the master's subscriptions, and the master not its.
 */

const API_KEY = 'b2'.repeat(32);
const REALM = 'pbx.example.com';
const OTHER_REALM = 'other.example';
const quiet = { PISTON_WARM_UP_ROUNDS: '0' };

interface Envelope {
  status: string;
  auth_token?: string;
  data: any;
}

function apiOf(apiPort: number) {
  const base = `http://127.0.0.1:${apiPort}`;
  return async (method: string, path: string, token?: string, data?: unknown): Promise<{ status: number; body: Envelope }> => {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) },
      ...(data === undefined ? {} : { body: JSON.stringify({ data }) }),
    });
    return { status: res.status, body: (await res.json()) as Envelope };
  };
}

async function login(call: ReturnType<typeof apiOf>): Promise<{ token: string; accountId: string }> {
  const auth = await call('PUT', '/v2/api_auth', undefined, { api_key: API_KEY });
  if (auth.status !== 201) throw new Error(`api_auth: ${JSON.stringify(auth.body)}`);
  return { token: auth.body.auth_token!, accountId: auth.body.data.account_id as string };
}

/** Call-ids listed under `subscriptions[resource].dialog`, sorted. */
async function listed(call: ReturnType<typeof apiOf>, token: string, accountId: string, resource: string): Promise<string[]> {
  const res = await call('GET', `/v2/accounts/${accountId}/presence`, token);
  if (res.status !== 200) throw new Error(`list: ${JSON.stringify(res.body)}`);
  return Object.keys(res.body.data.subscriptions?.[resource]?.dialog ?? {}).sort();
}

const sorted = (...ids: string[]): string[] => [...ids].sort();

// One server (default account on, realm pbx.example.com) for the first two tests; the third starts its own.
const server = await startServerForFile(t, { env: { ...quiet, PISTON_BOOTSTRAP_API_KEY: API_KEY, PISTON_BOOTSTRAP_REALM: REALM } });

t.test('default account: realm pbx.example.com, a watcher at 1001@127.0.0.1 is listed and reached by reset and set (issue 17)', async (t) => {
  const call = apiOf(server.apiPort);
  const { token, accountId } = await login(call);
  const other = await call('PUT', '/v2/accounts', token, { name: 'other', realm: OTHER_REALM });
  t.equal(other.status, 201, 'a second account claims other.example');
  const otherId = other.body.data.id as string;

  const ep = await SipEndpoint.udp(server.sipPort);
  t.teardown(() => ep.close());
  const subscribe = async (user: string, domain: string): Promise<SubscribeResult> => {
    const s = await ep.subscribe({ resource: '1001', domain, user, expires: 600 });
    t.equal(s.response.status, 200, `SUBSCRIBE 1001@${domain} from ${user}: 200`);
    t.ok(await ep.waitUntil(() => ep.transactions(s.callId).length >= 1, 5000), `its first NOTIFY arrived (1001@${domain})`);
    return s;
  };
  const loopback = await subscribe('2001', '127.0.0.1');
  const atRealm = await subscribe('2002', REALM);
  const atOther = await subscribe('2003', OTHER_REALM);
  const count = (s: SubscribeResult): number => ep.transactions(s.callId).length;
  const lastBody = (s: SubscribeResult): string => ep.transactions(s.callId).at(-1)?.msg.body ?? '';

  t.strictSame(await listed(call, token, accountId, '1001'), sorted(loopback.callId, atRealm.callId),
    'the master lists the 127.0.0.1 watcher and the realm one under the one resource 1001, not other.example\'s');
  t.strictSame(await listed(call, token, otherId, '1001'), [atOther.callId], 'the second account lists only its own domain');

  const reset = await call('POST', `/v2/accounts/${accountId}/presence/1001`, token, { action: 'reset' });
  t.same([reset.status, reset.body.data], [200, 'reset command sent for extension 1001']);
  t.ok(await ep.waitUntil(() => count(loopback) >= 2 && count(atRealm) >= 2, 5000), 'the reset NOTIFY reached 1001@127.0.0.1 and 1001@pbx.example.com');
  t.match(lastBody(loopback), /<state>terminated<\/state>/, 'showing the resource idle');
  t.equal(count(atOther), 1, 'the second account\'s watcher got nothing from the master\'s reset');

  await call('POST', `/v2/accounts/${otherId}/presence/1001`, token, { action: 'reset' });
  t.ok(await ep.waitUntil(() => count(atOther) >= 2, 5000), 'the second account\'s reset reaches its own watcher');
  t.equal(count(loopback), 2, 'and not the master\'s');

  const device = await call('PUT', `/v2/accounts/${accountId}/devices`, token, { name: 'desk', sip: { username: 'desk', password: 'secret123' }, presence_id: '1001' });
  t.equal(device.status, 201);
  const set = await call('POST', `/v2/accounts/${accountId}/devices/${device.body.data.id}/presence`, token, { action: 'set', state: 'confirmed' });
  t.same([set.status, set.body.data], [200, 'command sent']);
  t.ok(await ep.waitUntil(() => /<state>confirmed<\/state>/.test(lastBody(loopback)) && /<state>confirmed<\/state>/.test(lastBody(atRealm)), 5000),
    'set via the device lights 1001 at 127.0.0.1 and at the realm');

  const user = await call('PUT', `/v2/accounts/${accountId}/users`, token, { first_name: 'Front', last_name: 'Desk', presence_id: '1001' });
  t.equal(user.status, 201);
  await call('POST', `/v2/accounts/${accountId}/users/${user.body.data.id}/presence`, token, { action: 'set', state: 'early' });
  t.ok(await ep.waitUntil(() => /<state>early<\/state>/.test(lastBody(loopback)), 5000), 'set via the user reaches the 127.0.0.1 watcher');
  t.notMatch(lastBody(atOther), /confirmed|early/, 'the second account\'s watcher stays idle throughout');
});

t.test('from is the From URI\'s user@host: no display name, port or parameters, host lower-cased (issue 17 item 7)', async (t) => {
  const call = apiOf(server.apiPort);
  const { token, accountId } = await login(call);
  const ep = await SipEndpoint.udp(server.sipPort);
  t.teardown(() => ep.close());
  const s = await ep.subscribe({ resource: '1002', domain: REALM, user: 'Desk-7', from: '"Front Desk" <sip:Desk-7@PBX.Example.COM:5070;transport=udp;user=phone>' });
  t.equal(s.response.status, 200);
  const res = await call('GET', `/v2/accounts/${accountId}/presence`, token);
  t.equal(res.body.data.subscriptions['1002']?.dialog[s.callId]?.from, 'Desk-7@pbx.example.com', 'the user part as sent, the host lower-cased');
});

t.test('with PISTON_DEFAULT_ACCOUNT_FOR_UNKNOWN_DOMAINS=false only the realm is served, listed and reset, as before', async (t) => {
  const strict = await startServerForFile(t, {
    env: { ...quiet, PISTON_BOOTSTRAP_API_KEY: API_KEY, PISTON_BOOTSTRAP_REALM: REALM, PISTON_DEFAULT_ACCOUNT_FOR_UNKNOWN_DOMAINS: 'false' },
  });
  const call = apiOf(strict.apiPort);
  const { token, accountId } = await login(call);
  const ep = await SipEndpoint.udp(strict.sipPort);
  t.teardown(() => ep.close());
  const refused = await ep.subscribe({ resource: '1001', user: '2001' });
  t.equal(refused.response.status, 404, 'an unclaimed domain (127.0.0.1) is refused');
  const s = await ep.subscribe({ resource: '1001', domain: REALM, user: '2002' });
  t.equal(s.response.status, 200);
  t.ok(await ep.waitUntil(() => ep.transactions(s.callId).length >= 1, 5000), 'its first NOTIFY arrived');
  t.strictSame(await listed(call, token, accountId, '1001'), [s.callId]);
  await call('POST', `/v2/accounts/${accountId}/presence/1001`, token, { action: 'reset' });
  t.ok(await ep.waitUntil(() => ep.transactions(s.callId).length >= 2, 5000), 'the reset reaches the realm\'s watcher');
});
