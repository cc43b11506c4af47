import t from 'tap';
import { freePort, startServerForFile } from '../../support/server-process.js';
import { makeTestPki } from '../../support/tls-certs.js';
import { distinctNotifies, parseSippTrace } from '../../support/sipp-trace.js';
import { onPath } from '../../support/real-clients/client-process.js';
import { startKamailioPua } from '../../support/real-clients/kamailio-pua.js';
import { startSippClient } from '../../support/real-clients/sipp-client.js';

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
    PISTON_SIP_TLS_PORT: '0',
    PISTON_WARM_UP_ROUNDS: '0',
  },
});


interface DialogSeen {
  callId: string | undefined;
  direction: string | undefined;
  state: string;
}

/** The <dialog> elements of a dialog-info body (RFC 4235 §4.1), read with no XML library of the server's. */
function dialogsIn(body: string): DialogSeen[] {
  return [...body.matchAll(/<dialog\s([^>]*)>([\s\S]*?)<\/dialog>/g)].map((m) => ({
    callId: /call-id="([^"]*)"/.exec(m[1]!)?.[1],
    direction: /direction="([^"]*)"/.exec(m[1]!)?.[1],
    state: (/<state[^>]*>([^<]*)<\/state>/.exec(m[2]!)?.[1] ?? '').trim().toLowerCase(),
  }));
}

const installed = onPath('kamailio') && onPath('sipp');

t.test('a BLF watcher sees a real call that Kamailio publishes over TLS go early, confirmed, terminated in that order (RFC 4235 §3.7.1, RFC 3903 §4, RFC 3261 §26.2)', { skip: !installed && 'kamailio or sipp is not installed' }, async (t) => {
  const calleePort = await freePort();
  const kamailio = await startKamailioPua({
    serverPort: server.sipPort,
    calleePort,
    tls: { serverTlsPort: server.tlsPort!, certPath: pki.client.certPath, keyPath: pki.client.keyPath, caPath: pki.ca.certPath },
  });
  t.teardown(() => kamailio.close());

  // Rings for 1 s, so the early state is published well apart from confirmed.
  const callee = startSippClient('call-callee.xml', ['-t', 'u1', '-i', '127.0.0.1', '-p', String(calleePort), '-m', '1', '-d', '1000', '-timeout', '30s'], 40_000);
  t.teardown(() => callee.close());

  const watcherPort = await freePort();
  const watcher = startSippClient(
    'dialog-call-watcher.xml',
    [`127.0.0.1:${server.sipPort}`, '-t', 'u1', '-i', '127.0.0.2', '-p', String(watcherPort), '-m', '1', '-s', '1002', '-key', 'user', '1001', '-key', 'expires', '120', '-timeout', '45s', '-timeout_error'],
    50_000,
  );
  t.teardown(() => watcher.close());
  const ready = await watcher.waitForText('logs.log', /NOTIFY#0 ok/, 15_000);
  t.ok(ready, 'the watcher is subscribed and has the first NOTIFY', ready ? {} : { errors: watcher.read('errors.log'), output: watcher.process.output().slice(-1500) });
  if (!ready) return;

  // Talks for 1.5 s before BYE.
  const callerPort = await freePort();
  const caller = startSippClient(
    'call-caller.xml',
    [`127.0.0.1:${kamailio.port}`, '-t', 'u1', '-i', '127.0.0.1', '-p', String(callerPort), '-m', '1', '-s', '1002', '-key', 'user', '1001', '-d', '1500', '-timeout', '30s', '-timeout_error'],
    40_000,
  );
  t.teardown(() => caller.close());
  const callerCode = await caller.process.exited;
  t.equal(callerCode, 0, 'the call through Kamailio completed (INVITE, 180, 200, ACK, BYE, 200)', callerCode === 0 ? {} : { errors: caller.read('errors.log'), kamailio: kamailio.process.output().slice(-3000) });
  const invite = parseSippTrace(caller.read('messages.log')).find((m) => m.direction === 'sent' && m.method === 'INVITE');
  // Kamailio keeps its TLS connection to us open for the next PUBLISH: the server counts it.
  const metrics = await (await fetch(`http://127.0.0.1:${server.apiPort}/metrics`)).text();
  t.match(metrics, /piston_sip_connections\{transport="tls"\} [1-9]/, 'the server holds a TLS connection (Kamailio\'s)');
  t.ok(invite, 'the caller sent its INVITE');

  // The watcher unsubscribes after 4 s without a NOTIFY and exits 0 once the final NOTIFY is answered.
  const watcherCode = await watcher.process.exited;
  t.equal(watcherCode, 0, 'the watcher scenario ran to its end', watcherCode === 0 ? {} : { errors: watcher.read('errors.log') });

  const notifies = distinctNotifies(parseSippTrace(watcher.read('messages.log')));
  const during = notifies.slice(1).filter((n) => /^active/i.test(n.header('subscription-state') ?? ''));
  const ofTheCall = during.flatMap((n) => dialogsIn(n.body)).filter((d) => invite !== undefined && d.callId === invite.callId);
  t.ok(ofTheCall.length > 0, `NOTIFYs during the call describe the caller's Call-ID ${invite?.callId}`, { bodies: during.map((n) => n.body) });

  const states = ofTheCall.map((d) => d.state).filter((s, i, all) => i === 0 || s !== all[i - 1]);
  t.same(
    states.filter((s) => s === 'early' || s === 'confirmed' || s === 'terminated'),
    ['early', 'confirmed', 'terminated'],
    `the watcher saw early, then confirmed, then terminated (all states seen: ${states.join(' → ')})`,
  );
  t.equal(states.at(-1), 'terminated', 'the last state it saw is terminated');
  t.ok(ofTheCall.every((d) => d.direction === 'recipient'), 'every one shows 1002 as the recipient of the call');
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
