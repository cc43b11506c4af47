import t from 'tap';
import { startServerForFile } from '../../support/server-process.js';
import { startBaresip } from '../../support/real-clients/baresip.js';
import { onPath } from '../../support/real-clients/client-process.js';
import { dialogInfoBody, publishState } from '../../support/real-clients/publish-state.js';
import { apiCaller } from '../../support/api-call.js';

/**
 * baresip 1.0.0 (libre 1.1.0: MD5 only, security.md §2.2) authenticating to the built server with
 * `PISTON_SIP_AUTH=digest`: its presence SUBSCRIBE is challenged with one MD5 challenge, it answers with the
 * device's credentials (auth_pass), lists the watched extension, and the admin list shows the device as the watcher.
 * A PUBLISH without credentials from the same untrusted address is challenged too.
 */

const API_KEY = 'd4'.repeat(32);
const server = await startServerForFile(t, {
  env: { PISTON_SIP_AUTH: 'digest', PISTON_BOOTSTRAP_API_KEY: API_KEY, PISTON_BOOTSTRAP_REALM: '127.0.0.1' },
});
const api = `http://127.0.0.1:${server.apiPort}`;

const call = apiCaller(api);

t.test('baresip answers the MD5 challenge with its auth_pass and sees the watched extension (security.md §6 A2, A11)', { skip: !onPath('baresip') && 'baresip is not installed' }, async (t) => {
  const auth = await call('PUT', '/v2/api_auth', undefined, { api_key: API_KEY });
  const token = auth.body.auth_token as string;
  const account = auth.body.data.account_id as string;
  const dev = await call('PUT', `/v2/accounts/${account}/devices`, token, { name: 'softphone', sip: { username: '1001', password: 'bare-secret' } });
  t.equal(dev.status, 201);

  const baresip = await startBaresip({ serverPort: server.sipPort, user: '1001', watched: '1002', password: 'bare-secret' });
  t.teardown(() => baresip.close());
  const tail = (found: unknown): string => (found ? '' : baresip.process.output().slice(-3000));

  const challenged = await baresip.process.waitForOutput(/SIP\/2\.0 401 Unauthorized[\s\S]*?WWW-Authenticate: Digest realm="127\.0\.0\.1"[^\r\n]*algorithm=MD5/, 10_000);
  t.ok(challenged, 'the server challenged baresip', { output: tail(challenged) });
  const answered = await baresip.process.waitForOutput(/SUBSCRIBE sip:1002@[^\r\n]*[\s\S]*?Authorization: Digest [^\r\n]*username="1001"/, 10_000);
  t.ok(answered, 'baresip resent its SUBSCRIBE with credentials', { output: tail(answered) });
  const first = await baresip.waitForContacts(/Online\s+Ext 1002/, 10_000);
  t.match(first, /Online\s+Ext 1002/, 'and lists Ext 1002 as Online after the first NOTIFY', { contacts: first });

  // The list shows the authenticated device as the watcher (security.md §3.2).
  const list = await call('GET', `/v2/accounts/${account}/presence`, token);
  t.match(JSON.stringify(list.body), /"from":"1001@127\.0\.0\.1"/, 'the watcher listed is the device');

  // Without credentials from this address, a PUBLISH is challenged too (Z5).
  const published = await publishState(server.sipPort, {
    resource: '1002',
    event: 'dialog',
    contentType: 'application/dialog-info+xml',
    body: dialogInfoBody('1002', 'confirmed', 'baresip-call-1'),
    expires: 120,
  });
  t.equal(published.status, 401, 'an unauthenticated PUBLISH from an untrusted address gets 401');
});
