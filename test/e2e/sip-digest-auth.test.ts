import t from 'tap';
import { freePort, startServerForFile } from '../support/server-process.js';
import { runSipp, type SippResult } from '../support/sipp.js';
import { distinctNotifies, parseSippTrace } from '../support/sipp-trace.js';
import { apiCaller } from '../support/api-call.js';

/**
 * Issue 19 acceptance with `PISTON_SIP_AUTH=digest` (the default of `npm start`) over real sockets, UDP and TCP:
 * SIPp with a device's credentials (-au/-ap, MD5) gets 401, then 200 and NOTIFYs, and its in-dialog unsubscribe is
 * not challenged; without credentials 401 and no NOTIFY; a device of account A watching account B's extension 403
 * (security.md §6 A1, A2, A13, Z1).
 */

const API_KEY = 'c3'.repeat(32);
const server = await startServerForFile(t, {
  env: { PISTON_SIP_AUTH: 'digest', PISTON_BOOTSTRAP_API_KEY: API_KEY, PISTON_BOOTSTRAP_REALM: '127.0.0.1' },
});
const api = `http://127.0.0.1:${server.apiPort}`;

const call = apiCaller(api);

const auth = await call('PUT', '/v2/api_auth', undefined, { api_key: API_KEY });
const token = auth.body.auth_token as string;
const master = auth.body.data.account_id as string;
const device = await call('PUT', `/v2/accounts/${master}/devices`, token, { name: 'desk', sip: { username: '2001', password: 'sip-secret-2001' } });
// Account B serves b.example; without it that domain would land in the default account (the master).
const other = await call('PUT', '/v2/accounts', token, { name: 'tenant b', realm: 'b.example' });

const TRACE = ['-trace_msg', '-message_file', 'messages.log', '-trace_logs', '-log_file', 'logs.log', '-trace_err', '-error_file', 'errors.log'];

async function sipp(scenario: string, transport: 'udp' | 'tcp', resource: string, extra: string[]): Promise<SippResult> {
  const args = [`127.0.0.1:${server.sipPort}`, '-t', transport === 'udp' ? 'u1' : 't1', '-i', '127.0.0.1', '-p', String(await freePort())];
  args.push('-m', '1', '-s', resource, '-nd', '-timeout', '30s', '-timeout_error', ...extra, ...TRACE);
  return runSipp(scenario, args, 60_000);
}

const explain = (r: SippResult): string => `exit ${r.code}; errors: ${(r.files['errors.log'] ?? r.stderr).slice(-1500)}`;

t.test('the device and the other account were made through the API', async (t) => {
  t.equal(device.status, 201);
  t.equal(device.body.data.sip.digest_ready, true);
  t.equal(other.status, 201);
});

for (const transport of ['udp', 'tcp'] as const) {
  t.test(`${transport}: SIPp with -au/-ap gets 401 with one MD5 challenge, then 200 and NOTIFYs; Expires 0 in the dialog is not challenged (A1, A2, A13)`, async (t) => {
    const r = await sipp('subscribe-cycle-auth.xml', transport, transport === 'udp' ? '1001' : '1002', [
      '-au', '2001', '-ap', 'sip-secret-2001',
      '-key', 'event', 'dialog', '-key', 'accept', 'application/dialog-info+xml', '-key', 'user', '2001', '-key', 'expires', '120',
    ]);
    t.equal(r.code, 0, explain(r));
    const log = r.files['logs.log'] ?? '';
    t.match(log, /401 Digest realm="127\.0\.0\.1", nonce="[^"]+", qop="auth", algorithm=MD5/, 'the challenge names the account realm');
    const msgs = parseSippTrace(r.files['messages.log'] ?? '');
    const finals = msgs.filter((m) => m.direction === 'received' && m.status !== undefined && m.status >= 200 && m.cseq.method === 'SUBSCRIBE');
    t.same(finals.map((m) => [m.cseq.seq, m.status]), [[1, 401], [2, 200], [3, 200]], '401, 200 with credentials, 200 for the unsubscribe');
    const sent = msgs.filter((m) => m.direction === 'sent' && m.method === 'SUBSCRIBE');
    t.match(sent[1]!.raw, /Authorization: Digest [^\r\n]*username="2001"/, 'SIPp answered with the device\'s credentials');
    t.notMatch(sent[2]!.raw, /Authorization:/, 'the unsubscribe carries none');
    const notifies = distinctNotifies(msgs);
    t.ok(notifies.length >= 2, `NOTIFYs: the first and the terminating one (${notifies.length})`);
  });

  t.test(`${transport}: without credentials: 401 and no NOTIFY (A1)`, async (t) => {
    const r = await sipp('subscribe-unauthenticated.xml', transport, '1003', []);
    t.equal(r.code, 0, explain(r));
    t.equal(distinctNotifies(parseSippTrace(r.files['messages.log'] ?? '')).length, 0, 'no NOTIFY');
  });

  t.test(`${transport}: a device of account A watching account B's extension gets 403 and no NOTIFY (Z1)`, async (t) => {
    const r = await sipp('subscribe-other-account.xml', transport, '1001', ['-au', '2001', '-ap', 'sip-secret-2001', '-key', 'other_domain', 'b.example']);
    t.equal(r.code, 0, explain(r));
    const msgs = parseSippTrace(r.files['messages.log'] ?? '');
    const last = msgs.filter((m) => m.direction === 'received' && m.status === 403);
    t.equal(last.length, 1, '403');
    t.equal(distinctNotifies(msgs).length, 0, 'no NOTIFY');
  });
}

t.test('a wrong password gets 401 again, never 200', async (t) => {
  const r = await sipp('subscribe-cycle-auth.xml', 'udp', '1004', [
    '-au', '2001', '-ap', 'wrong',
    '-key', 'event', 'dialog', '-key', 'accept', 'application/dialog-info+xml', '-key', 'user', '2001', '-key', 'expires', '120',
  ]);
  t.not(r.code, 0, 'the scenario fails: no 200');
  const msgs = parseSippTrace(r.files['messages.log'] ?? '');
  const statuses = msgs.filter((m) => m.direction === 'received' && m.status !== undefined && m.status >= 200).map((m) => m.status);
  t.same(statuses.slice(0, 2), [401, 401]);
});
