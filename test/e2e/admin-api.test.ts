import t from 'tap';
import { createHash } from 'node:crypto';
import { freePort, startServerForFile } from '../support/server-process.js';
import { startSipp } from '../support/sipp.js';
import { distinctNotifies, parseSippTrace } from '../support/sipp-trace.js';
import { apiCaller } from '../support/api-call.js';

/**
 * Issue 4 acceptance over real sockets: a SIPp watcher subscribes to a device's presence id; the admin API lists its
 * record; `set confirmed` on the device lights the lamp (a NOTIFY with a confirmed dialog); `reset` brings an idle
 * NOTIFY while the record stays; another account's token is refused with 403.
 */

const API_KEY = 'a1'.repeat(32);
// The master account's realm is the domain the phones use (here the loopback address they dial).
const server = await startServerForFile(t, { env: { PISTON_BOOTSTRAP_API_KEY: API_KEY, PISTON_BOOTSTRAP_REALM: '127.0.0.1' } });
const api = `http://127.0.0.1:${server.apiPort}`;

interface Envelope {
  status: string;
  auth_token?: string;
  data: any;
  message?: string;
  error?: string;
}

const call = apiCaller<Envelope>(api);

async function waitFor<T>(probe: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('a device presence id watched over SIP is listed, lit by set and cleared by reset through the API (api-contract.md Presence)', async (t) => {
  const auth = await call('PUT', '/v2/api_auth', undefined, { api_key: API_KEY });
  t.equal(auth.status, 201, 'api_auth gives a token');
  const token = auth.body.auth_token!;
  const accountId = auth.body.data.account_id as string;

  const device = await call('PUT', `/v2/accounts/${accountId}/devices`, token, {
    name: 'Reception',
    sip: { username: 'reception', password: 'secret123' },
    presence_id: '2101',
  });
  t.equal(device.status, 201, 'device created');
  const deviceId = device.body.data.id as string;

  const watcher = startSipp('subscribe-cycle.xml', [
    `127.0.0.1:${server.sipPort}`, '-t', 'u1', '-i', '127.0.0.1', '-p', String(await freePort()),
    '-m', '1', '-s', '2101', '-nd', '-timeout', '40s', '-timeout_error',
    '-key', 'event', 'dialog', '-key', 'accept', 'application/dialog-info+xml', '-key', 'user', '3001', '-key', 'expires', '600',
  ], 60_000);
  t.ok(await watcher.waitForText('logs.log', /NOTIFY#0 ok/, 15_000), 'the SIPp watcher is subscribed and has its first NOTIFY');

  const listed = await call('GET', `/v2/accounts/${accountId}/presence`, token);
  t.equal(listed.status, 200);
  const calls = listed.body.data.subscriptions?.['2101']?.dialog ?? {};
  const ids = Object.keys(calls);
  t.equal(ids.length, 1, 'one dialog subscription for 2101');
  const record = calls[ids[0]!];
  t.equal(record.from, '3001@127.0.0.1', 'from is the watcher user@realm');
  t.ok(record.expires > 0 && record.expires <= 600, 'expires is the granted seconds');
  t.equal(record.notify.sequence, 1, 'the initial NOTIFY was CSeq 1');
  t.equal(record.notify.reply, 200, 'answered 200');
  t.match(record.notify.body, /<dialog-info/, 'its body is recorded');
  t.equal(record.version, 1, 'one document sent so far');
  t.match(record.stalker, /\S/, 'the node holding the dialog');
  t.ok(Math.abs(record.timestamp - (Math.floor(Date.now() / 1000) + 62167219200)) < 60, 'timestamp in Gregorian seconds');

  const set = await call('POST', `/v2/accounts/${accountId}/devices/${deviceId}/presence`, token, { action: 'set', state: 'confirmed' });
  t.same([set.status, set.body.data], [200, 'command sent']);
  t.ok(await watcher.waitForText('messages.log', /<state>confirmed<\/state>/, 5000), 'the watcher received a confirmed dialog');

  const reset = await call('POST', `/v2/accounts/${accountId}/devices/${deviceId}/presence`, token, { action: 'reset' });
  t.same([reset.status, reset.body.data], [200, 'command sent']);
  const afterReset = await waitFor(async () => {
    const notifies = distinctNotifies(parseSippTrace(watcher.read('messages.log'))).filter((n) => n.direction === 'received');
    return notifies.length >= 3 ? notifies : undefined;
  }, 5000);
  t.ok(afterReset, 'a third NOTIFY arrived after the reset');
  t.match(afterReset?.[2]?.body ?? '', /<state>terminated<\/state>/, 'the reset NOTIFY shows the resource idle');
  const still = await call('GET', `/v2/accounts/${accountId}/presence?event=dialog`, token);
  t.same(Object.keys(still.body.data.subscriptions?.['2101']?.dialog ?? {}), ids, 'the subscription stays after the reset');
  t.equal(still.body.data.subscriptions['2101'].dialog[ids[0]!].version, 3, 'three documents sent');

  const child = await call('PUT', '/v2/accounts', token, { name: 'other', realm: 'other.example' });
  t.equal(child.status, 201, 'a second account');
  const otherId = child.body.data.id as string;
  // The master may manage its sub-account; the sub-account's own token must not reach the master (403).
  const otherUser = await call('PUT', `/v2/accounts/${otherId}/users`, token, { first_name: 'O', last_name: 'Ther', username: 'other', password: 'pw-other-1' });
  t.equal(otherUser.status, 201, 'a user in the second account');
  const credentials = createHash('md5').update('other:pw-other-1').digest('hex');
  const otherAuth = await call('PUT', '/v2/user_auth', undefined, { credentials, account_name: 'other' });
  t.equal(otherAuth.status, 201, 'user_auth gives the second account a token');
  const denied = await call('GET', `/v2/accounts/${accountId}/presence`, otherAuth.body.auth_token);
  t.equal(denied.status, 403);
  t.same([denied.body.message, denied.body.data], ['forbidden', { message: 'forbidden' }], 'the contract error shape');

  const result = await watcher.result;
  t.equal(result.code, 0, `the watcher scenario finished cleanly (${(result.files['errors.log'] ?? result.stderr).slice(-500)})`);
});
