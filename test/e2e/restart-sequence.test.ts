import t from 'tap';
import { removeDir, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { SipEndpoint } from '../support/sip-watcher.js';

/**
 * Issue 17 acceptance over real sockets: after a kill -9 the restarted server moves CSeq ahead (main.ts, crash
 * headroom), and the admin list's `notify.sequence`, "the CSeq of the last NOTIFY" (api-contract.md), moves with it:
 * before any NOTIFY it is the next NOTIFY's CSeq minus one, and then the CSeq that NOTIFY carried. It showed 1 while the
 * next NOTIFY carried 66.
 */

const API_KEY = 'b2'.repeat(32);
const ENV = { PISTON_BOOTSTRAP_API_KEY: API_KEY, PISTON_BOOTSTRAP_REALM: '127.0.0.1' };
const RESOURCE = '2201';

let server: ServerProcess | undefined;
let dataDir: string | undefined;
t.teardown(async () => {
  await server?.stop();
  if (dataDir) removeDir(dataDir);
});

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

async function listedNotify(apiPort: number, callId: string): Promise<{ sequence: number; reply: number } | undefined> {
  const api = `http://127.0.0.1:${apiPort}`;
  const auth = await fetch(`${api}/v2/api_auth`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data: { api_key: API_KEY } }),
  });
  const envelope = (await auth.json()) as { auth_token: string; data: { account_id: string } };
  const res = await fetch(`${api}/v2/accounts/${envelope.data.account_id}/presence`, { headers: { 'x-auth-token': envelope.auth_token } });
  const body = (await res.json()) as { data: { subscriptions: Record<string, Record<string, Record<string, { notify: { sequence: number; reply: number } }>>> } };
  return body.data.subscriptions[RESOURCE]?.dialog?.[callId]?.notify;
}

t.test('after kill -9 the listed notify.sequence is the next NOTIFY\'s CSeq minus one, then that CSeq (api-contract.md, RFC 3261 §12.2.1.1)', async (t) => {
  server = await startServerProcess({ env: ENV });
  dataDir = server.dataDir;
  const { sipPort, apiPort } = server;
  const watcher = await SipEndpoint.udp(sipPort);
  const publisher = await SipEndpoint.udp(sipPort);
  t.teardown(async () => {
    await watcher.close();
    await publisher.close();
  });
  const sub = await watcher.subscribe({ resource: RESOURCE, user: '3201', event: 'dialog', expires: 3600 });
  t.equal(sub.response.status, 200);
  t.ok(await watcher.waitUntil(() => watcher.transactions(sub.callId).length === 1, 10_000), 'the first NOTIFY arrived');
  const firstCseq = watcher.transactions(sub.callId)[0]!.cseq;
  t.equal((await listedNotify(apiPort, sub.callId))?.sequence, firstCseq, 'before the crash the list shows the CSeq sent');

  // The store flushes every 50 ms; leave it a few rounds, then crash.
  await sleep(400);
  await server.kill9();
  server = await startServerProcess({ dataDir, sipPort, apiPort, env: ENV });

  const listed = (await listedNotify(apiPort, sub.callId))?.sequence;
  t.ok(listed !== undefined && listed > firstCseq, `after the restart the list shows a CSeq moved ahead (${listed})`);
  const r = await publisher.publishDialog({
    resource: RESOURCE,
    expires: 3600,
    dialog: { id: 'call-1', callId: 'c-1', localTag: 'l', remoteTag: 'r', state: 'early', direction: 'recipient' },
  });
  t.equal(r.response.status, 200, 'the PUBLISH after the restart is accepted');
  t.ok(await watcher.waitUntil(() => watcher.transactions(sub.callId).length === 2, 10_000), 'the watcher is told');
  const next = watcher.transactions(sub.callId)[1]!.cseq;
  t.equal(next, listed! + 1, 'the next NOTIFY carries the listed sequence plus one');
  // The answer to the NOTIFY is recorded once the 200 is back; the sequence is set as it goes out.
  t.equal((await listedNotify(apiPort, sub.callId))?.sequence, next, 'then the list shows the CSeq of that NOTIFY');
});
