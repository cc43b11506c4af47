import t from 'tap';
import { apiCaller } from '../../support/api-call.js';
import { startBaresip } from '../../support/real-clients/baresip.js';
import { onPath } from '../../support/real-clients/client-process.js';
import { dialogInfoBody, publishState } from '../../support/real-clients/publish-state.js';
import { startServerForFile } from '../../support/server-process.js';
import { makeTestPki } from '../../support/tls-certs.js';

/**
 * baresip 1.0.0 (libre's TLS transport), a real client nobody on this team wrote, watching over TLS with a device's
 * digest credentials (issue 20 item 4, "a real client over TLS"): its SUBSCRIBE on a TLS connection is challenged,
 * it answers, and the NOTIFYs (the first one and the one a PUBLISH causes) reach it on that connection. baresip has no
 * BLF, so it watches `presence`; a dialog PUBLISH turns the extension Busy (RFC 4235 state mapped to PIDF).
 */

const pki = makeTestPki();
t.teardown(() => pki.cleanup());
const API_KEY = 'e5'.repeat(32);
const server = await startServerForFile(t, {
  env: {
    PISTON_SIP_HOST: '127.0.0.1',
    PISTON_SIP_AUTH: 'digest',
    PISTON_BOOTSTRAP_API_KEY: API_KEY,
    PISTON_BOOTSTRAP_REALM: '127.0.0.1',
    // The PUBLISH below comes over UDP from 127.0.0.1, trusted for UDP only: baresip's TLS SUBSCRIBE is challenged.
    PISTON_SIP_TRUSTED_PEERS: '127.0.0.1/32;transport=udp',
    PISTON_SIP_TLS_CERT: pki.server.certPath,
    PISTON_SIP_TLS_KEY: pki.server.keyPath,
    PISTON_WARM_UP_ROUNDS: '0',
  },
});
const call = apiCaller(`http://127.0.0.1:${server.apiPort}`);

t.test('baresip over TLS: 401, then its credentials, 200, and the lamp change on its TLS connection (issue 20 item 4, security.md §6 A1, A2)', { skip: !onPath('baresip') && 'baresip is not installed' }, async (t) => {
  const auth = await call('PUT', '/v2/api_auth', undefined, { api_key: API_KEY });
  const token = auth.body.auth_token as string;
  const account = auth.body.data.account_id as string;
  const dev = await call('PUT', `/v2/accounts/${account}/devices`, token, { name: 'tls softphone', sip: { username: '1001', password: 'tls-bare-secret' } });
  t.equal(dev.status, 201);

  const baresip = await startBaresip({ serverPort: server.tlsPort!, user: '1001', watched: '1002', password: 'tls-bare-secret', tls: { caFile: pki.ca.certPath } });
  t.teardown(() => baresip.close());
  const tail = (found: unknown): string => (found ? '' : baresip.process.output().slice(-3000));
  const port = server.tlsPort!;

  // baresip's trace (-s) names the transport and both ends before each message.
  const challenged = await baresip.process.waitForOutput(new RegExp(`TLS 127\\.0\\.0\\.1:${port} -> 127\\.0\\.0\\.1:\\d+\\r?\\nSIP/2\\.0 401 `), 10_000);
  t.ok(challenged, 'the 401 came over TLS', { output: tail(challenged) });
  const answered = await baresip.process.waitForOutput(/SUBSCRIBE sip:1002@[^\r\n]*transport=tls[\s\S]*?Authorization: Digest [^\r\n]*username="1001"/, 10_000);
  t.ok(answered, 'baresip resent its SUBSCRIBE over TLS with credentials', { output: tail(answered) });
  const notified = await baresip.process.waitForOutput(new RegExp(`TLS 127\\.0\\.0\\.1:${port} -> 127\\.0\\.0\\.1:\\d+\\r?\\nNOTIFY sip:`), 10_000);
  t.ok(notified, 'a NOTIFY came over TLS', { output: tail(notified) });
  const first = await baresip.waitForContacts(/Online\s+Ext 1002/, 10_000);
  t.match(first, /Online\s+Ext 1002/, 'baresip lists Ext 1002 as Online', { contacts: first });

  const published = await publishState(server.sipPort, {
    resource: '1002',
    event: 'dialog',
    contentType: 'application/dialog-info+xml',
    body: dialogInfoBody('1002', 'confirmed', 'tls-call-1'),
    expires: 120,
  });
  t.equal(published.status, 200, 'the trusted PUBLISH is accepted');
  const busy = await baresip.process.waitForOutput(/<sip:1002@127\.0\.0\.1:\d+;transport=tls> changed status from Online to Busy/, 10_000);
  t.ok(busy, 'baresip reports "changed status from Online to Busy"', { output: tail(busy) });
  const removed = await publishState(server.sipPort, { resource: '1002', event: 'dialog', expires: 0, ifMatch: published.etag! });
  t.equal(removed.status, 200);
});
