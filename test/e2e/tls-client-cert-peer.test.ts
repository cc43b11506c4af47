import t from 'tap';
import { apiCaller } from '../support/api-call.js';
import { TlsSipPeer } from '../support/secure-peers.js';
import { dialogInfo, splitStream } from '../support/secure-requests.js';
import { startServerForFile } from '../support/server-process.js';
import { publishText } from '../support/sip-builders.js';
import { statusCodes } from '../support/sip-client.js';
import { makeTestPki } from '../support/tls-certs.js';

/**
 * T3 end to end (transports.md §2, security.md §3.3): a trusted peer listed by its client certificate's fingerprint
 * (and TLS) is recognised by that certificate: its PUBLISH over TLS is accepted without a challenge. The same address
 * without the certificate, or with another one, is no peer: 401.
 */

const pki = makeTestPki();
t.teardown(() => pki.cleanup());
const API_KEY = 'f6'.repeat(32);
const server = await startServerForFile(t, {
  env: {
    PISTON_SIP_HOST: '127.0.0.1',
    PISTON_SIP_AUTH: 'digest',
    PISTON_BOOTSTRAP_API_KEY: API_KEY,
    PISTON_BOOTSTRAP_REALM: '127.0.0.1',
    PISTON_SIP_TLS_CERT: pki.server.certPath,
    PISTON_SIP_TLS_KEY: pki.server.keyPath,
    PISTON_SIP_TLS_CA: pki.ca.certPath,
    PISTON_WARM_UP_ROUNDS: '0',
  },
});
const call = apiCaller(`http://127.0.0.1:${server.apiPort}`);
const auth = await call('PUT', '/v2/api_auth', undefined, { api_key: API_KEY });
const token = auth.body.auth_token as string;
const master = auth.body.data.account_id as string;

async function publishOverTls(options: { cert?: Buffer; key?: Buffer }): Promise<number | undefined> {
  const peer = await TlsSipPeer.open(server.tlsPort!, options);
  try {
    await peer.write(
      publishText({
        target: '1001@127.0.0.1',
        contentType: 'application/dialog-info+xml',
        body: dialogInfo('sip:1001@127.0.0.1', 'early'),
        expires: 60,
        headers: { Via: `SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK${Math.random().toString(36).slice(2)}` },
      }),
    );
    const text = await peer.waitUntil((x) => splitStream(x).some((m) => /^SIP\/2\.0 [2-6]/.test(m)), 5000);
    return statusCodes(splitStream(text).find((m) => /^SIP\/2\.0 [2-6]/.test(m)) ?? '')[0];
  } finally {
    peer.close();
  }
}

t.test('T3: a trusted peer listed by its client certificate has its PUBLISH over TLS accepted; without that certificate it is challenged (security.md §3.3)', async (t) => {
  const made = await call('PUT', `/v2/accounts/${master}/trusted_peers`, token, {
    cidr: '127.0.0.1/32',
    transport: 'tls',
    fingerprint: pki.client.fingerprint256,
    name: 'edge proxy with a certificate',
  });
  t.equal(made.status, 201, 'the peer is listed with its fingerprint');
  t.equal(await publishOverTls({ cert: pki.client.cert, key: pki.client.key }), 200, 'with the listed certificate: 200, no challenge');
  t.equal(await publishOverTls({}), 401, 'the same address without a certificate: 401');
  t.equal(await publishOverTls({ cert: pki.other.cert, key: pki.other.key }), 401, 'with another certificate: 401');
});
