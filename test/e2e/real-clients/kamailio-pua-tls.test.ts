import t from 'tap';
import { freePort, startServerForFile } from '../../support/server-process.js';
import { makeTestPki } from '../../support/tls-certs.js';
import { onPath } from '../../support/real-clients/client-process.js';
import { startKamailioPua } from '../../support/real-clients/kamailio-pua.js';
import { startSippClient } from '../../support/real-clients/sipp-client.js';
import { watchCallThroughKamailio } from '../../support/real-clients/kamailio-call.js';

/**
 * Kamailio's pua_dialoginfo as the state source over TLS (issue 20 item 4): it PUBLISHes the states of a real SIPp
 * call relayed through it on a TLS connection to the built server, having checked the server's certificate against
 * the test CA. Digest authentication is on and Kamailio's address is a trusted peer for TLS only, so a PUBLISH that
 * came any other way would be challenged and change nothing. A SIPp BLF watcher (a trusted UDP peer on 127.0.0.2)
 * must see the call go early → confirmed → terminated, in that order (security.md §6 Z6 over TLS).
 */

const pki = makeTestPki();
t.teardown(() => pki.cleanup());
const server = await startServerForFile(t, {
  env: {
    PISTON_SIP_HOST: '127.0.0.1',
    PISTON_SIP_AUTH: 'digest',
    PISTON_SIP_TRUSTED_PEERS: '127.0.0.1/32;transport=tls,127.0.0.2/32;transport=udp',
    PISTON_SIP_TLS_CERT: pki.server.certPath,
    PISTON_SIP_TLS_KEY: pki.server.keyPath,
    PISTON_WARM_UP_ROUNDS: '0',
  },
});


const installed = onPath('kamailio') && onPath('sipp');

t.test('a BLF watcher sees a real call that Kamailio publishes over TLS go early, confirmed, terminated in that order (RFC 4235 §3.7.1, RFC 3903 §4, RFC 3261 §26.2)', { skip: !installed && 'kamailio or sipp is not installed' }, async (t) => {
  const calleePort = await freePort();
  const kamailio = await startKamailioPua({
    serverPort: server.sipPort,
    calleePort,
    tls: { serverTlsPort: server.tlsPort!, certPath: pki.client.certPath, keyPath: pki.client.keyPath, caPath: pki.ca.certPath },
  });
  t.teardown(() => kamailio.close());
  await watchCallThroughKamailio(t, { serverSipPort: server.sipPort, kamailio, calleePort, watcherHost: '127.0.0.2' });
  // Kamailio keeps its TLS connection to us open for the next PUBLISH: the server counts it.
  const metrics = await (await fetch(`http://127.0.0.1:${server.apiPort}/metrics`)).text();
  t.match(metrics, /piston_sip_connections\{transport="tls"\} [1-9]/, 'the server holds a TLS connection (Kamailio\'s)');
  t.notMatch(kamailio.process.output(), /tls_connect|certificate verify failed|TLS.*error/i, 'Kamailio logged no TLS failure');
});

t.test('with a CA that did not sign the server\'s certificate Kamailio refuses the TLS connection: the certificate really is checked (RFC 5922 §7.3)', { skip: !installed && 'kamailio or sipp is not installed' }, async (t) => {
  const calleePort = await freePort();
  const kamailio = await startKamailioPua({
    serverPort: server.sipPort,
    calleePort,
    tls: { serverTlsPort: server.tlsPort!, certPath: pki.client.certPath, keyPath: pki.client.keyPath, caPath: pki.other.certPath },
  });
  t.teardown(() => kamailio.close());
  const callee = startSippClient('call-callee.xml', ['-t', 'u1', '-i', '127.0.0.1', '-p', String(calleePort), '-m', '1', '-d', '200', '-timeout', '20s'], 30_000);
  t.teardown(() => callee.close());
  const callerPort = await freePort();
  const caller = startSippClient(
    'call-caller.xml',
    [`127.0.0.1:${kamailio.port}`, '-t', 'u1', '-i', '127.0.0.1', '-p', String(callerPort), '-m', '1', '-s', '1004', '-key', 'user', '1003', '-d', '300', '-timeout', '20s', '-timeout_error'],
    30_000,
  );
  t.teardown(() => caller.close());
  t.equal(await caller.process.exited, 0, 'the call itself went through Kamailio');
  const failed = await kamailio.process.waitForOutput(/certificate verify failed|verify error|tls_connect/i, 5000);
  t.ok(failed, 'Kamailio logged the failed certificate check', failed ? {} : { kamailio: kamailio.process.output().slice(-3000) });
  const list = await fetch(`http://127.0.0.1:${server.apiPort}/metrics`);
  t.match(await list.text(), /piston_sip_connections\{transport="tls"\} 0/, 'no TLS connection was left open');
});
