import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import t, { type Test } from 'tap';
import { SystemClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { Flow } from '../../../src/sip/transport/flow.js';
import { SipTransport } from '../../../src/sip/transport/sip-transport.js';
import { readTlsCredentials, TlsCredentialsError } from '../../../src/sip/transport/tls-credentials.js';
import { TLS } from '../../../src/sip/transport/transport-descriptor.js';
import { createPresenceStack, socketListeners, type PresenceStack } from '../../../src/stack/index.js';
import { TlsSipPeer } from '../../support/secure-peers.js';
import { dialogInfo, okTo, optionsText, splitStream, subscribeText } from '../../support/secure-requests.js';
import { buildPublish, TEST_FLOW } from '../../support/sip-builders.js';
import { pollUntil } from '../../support/poll-until.js';
import { statusCodes } from '../../support/sip-client.js';
import { makeTestPki } from '../../support/tls-certs.js';

/** SIP over TLS (RFC 3261 §26.2, transports.md §2, security.md §6 rows T1-T3), through the stack on real sockets. */

const pki = makeTestPki();
t.teardown(() => pki.cleanup());
const clock = new SystemClock();

async function tlsStack(t: Test, opts: { ca?: boolean; handshakeTimeoutMs?: number } = {}): Promise<{ stack: PresenceStack; port: number; sockets: SipTransport }> {
  const credentials = readTlsCredentials({ certPath: pki.server.certPath, keyPath: pki.server.keyPath, ...(opts.ca ? { caPath: pki.ca.certPath } : {}) });
  const listeners = socketListeners({ hosts: ['127.0.0.1'], port: 0, tls: { port: 0, credentials, handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 1000 }, clock, logger: silentLogger });
  const stack = createPresenceStack({ clock, transports: listeners });
  await stack.start();
  // The system clock's timers are unref'd: keep the test process alive while the stack runs.
  const alive = setInterval(() => {}, 1000);
  t.teardown(async () => {
    clearInterval(alive);
    await stack.stop({ drainMs: 0 });
  });
  return { stack, port: stack.portOf(TLS)!, sockets: listeners.tls as SipTransport };
}

/** Resolves when the server closes the raw socket (or after `ms`), with whether it closed. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((res) => {
    if (socket.destroyed) return res(true);
    const timer = setTimeout(() => res(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      res(true);
    });
    socket.on('error', () => {});
  });
}

/** Whether a TLS handshake from `from` completes. */
async function handshakes(port: number, from: string): Promise<boolean> {
  try {
    (await TlsSipPeer.open(port, { localAddress: from } as ConnectionOptions)).close();
    return true;
  } catch {
    return false;
  }
}

async function optionsAnswered(port: number): Promise<number[]> {
  const peer = await TlsSipPeer.open(port);
  await peer.write(optionsText('TLS', '127.0.0.1:5099'));
  const text = await peer.waitUntil((s) => statusCodes(s).length > 0);
  peer.close();
  return statusCodes(text);
}

t.test('OPTIONS over TLS gets 200 on its connection (issue 20 acceptance; RFC 3261 §11, §26.2)', async (t) => {
  const { port, stack } = await tlsStack(t);
  t.ok(port > 0 && port !== stack.portOf({ ...TLS, name: 'udp' }), 'TLS has a port of its own');
  t.same(await optionsAnswered(port), [200]);
});

t.test('a SUBSCRIBE over TLS gets 200 and its NOTIFYs on the same connection (RFC 5626 §5, RFC 6665 §4.2.1)', async (t) => {
  const { port, stack } = await tlsStack(t);
  const peer = await TlsSipPeer.open(port);
  t.teardown(() => peer.close());
  await peer.write(subscribeText({ via: 'TLS', user: '1001' }));
  const first = splitStream(await peer.waitUntil((s) => splitStream(s).some((m) => m.startsWith('NOTIFY'))));
  t.equal(statusCodes(first[0]!)[0], 200, '200 first');
  const notify = first.find((m) => m.startsWith('NOTIFY'))!;
  t.match(notify, /^Via: SIP\/2\.0\/TLS /m, 'our Via names TLS');
  t.match(notify, /^Contact: <sips:127\.0\.0\.1:\d+>/m, 'our Contact is sips: so the phone comes back over TLS');
  await peer.write(okTo(notify));
  const [rec] = stack.notifier.liveRecords();
  t.equal(rec?.flow.protocol, 'tls', 'the subscription is on the TLS flow (the admin view shows it)');
  // A state change: its NOTIFY comes on the same connection.
  stack.receive(
    buildPublish({ target: '1001@example.com', contentType: 'application/dialog-info+xml', body: dialogInfo('sip:1001@example.com', 'confirmed'), expires: 600 }),
    TEST_FLOW,
    { respond: () => {} },
  );
  const all = splitStream(await peer.waitUntil((s) => splitStream(s).filter((m) => m.startsWith('NOTIFY')).length >= 2));
  const second = all.filter((m) => m.startsWith('NOTIFY'))[1];
  t.match(second, /<state>confirmed<\/state>/, 'the change reaches the watcher on its TLS connection');
});

t.test('T1: plaintext, a silent client, TLS 1.1 and random bytes are closed and counted; other TLS connections unharmed (security.md §6)', async (t) => {
  const { port, sockets } = await tlsStack(t, { handshakeTimeoutMs: 800 });
  const bystander = await TlsSipPeer.open(port);
  t.teardown(() => bystander.close());

  const plain = tcpConnect({ host: '127.0.0.1', port });
  plain.write(optionsText('TCP', '127.0.0.1:5098'));
  let plainReply = '';
  plain.on('data', (d: Buffer) => (plainReply += d.toString('latin1')));
  t.ok(await closedWithin(plain, 3000), 'plaintext SIP to the TLS port: closed');
  t.notMatch(plainReply, /SIP\/2\.0/, 'and never answered as SIP');

  const silent = tcpConnect({ host: '127.0.0.1', port });
  const started = Date.now();
  t.ok(await closedWithin(silent, 5000), 'a TCP connect without ClientHello: closed');
  const waited = Date.now() - started;
  t.ok(waited >= 600 && waited < 4000, `after the handshake deadline (${waited} ms for 800 ms)`);

  const old = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
  const oldError = await new Promise<string>((res) => {
    old.once('secureConnect', () => res('connected'));
    old.once('error', (e: NodeJS.ErrnoException) => res(e.code ?? e.message));
  });
  old.destroy();
  t.not(oldError, 'connected', `a TLS 1.1 client is refused (${oldError})`);

  const noise = tcpConnect({ host: '127.0.0.1', port });
  noise.write(Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) % 256)));
  t.ok(await closedWithin(noise, 3000), 'random bytes: closed');

  t.ok(sockets.stats.tlsHandshakeFailures >= 3, `handshake failures counted (${sockets.stats.tlsHandshakeFailures})`);
  await bystander.write(optionsText('TLS', '127.0.0.1:5097'));
  t.same(statusCodes(await bystander.waitUntil((s) => statusCodes(s).length > 0)), [200], 'a connection opened before is still served');
  t.same(await optionsAnswered(port), [200], 'and new ones too');
  t.ok(await pollUntil(() => sockets.connectionCount === 1, 3000), `only the bystander holds a connection: nothing leaked (${sockets.connectionCount})`);
});

t.test('C3 over TLS: the per-address cap is checked before the handshake and counts sockets still in theirs (security.md §4.2, §6 C3)', async (t) => {
  const credentials = readTlsCredentials({ certPath: pki.server.certPath, keyPath: pki.server.keyPath });
  const refusedAt: string[] = [];
  const sockets = new SipTransport({
    hosts: ['127.0.0.1'],
    port: 0,
    udp: false,
    clock,
    logger: silentLogger,
    tls: { port: 0, credentials, handshakeTimeoutMs: 5000 },
    // A cap of two per address, as PISTON_SIP_MAX_CONNECTIONS_PER_IP would set it for an untrusted source.
    connectionLimits: { admit: ({ open }) => open < 2, onLimit: (reason) => refusedAt.push(reason) },
  });
  await sockets.start();
  t.teardown(() => sockets.close());
  const port = sockets.portOf(TLS)!;
  // Two sockets from 127.0.0.2 that never send a ClientHello: they hold their address's two places while in the handshake.
  const stalled = [0, 1].map(() => tcpConnect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }));
  for (const s of stalled) s.on('error', () => {});
  await Promise.all(stalled.map((s) => new Promise((res) => s.once('connect', res))));
  t.notOk(await pollUntil(() => stalled.some((s) => s.destroyed), 300), 'both stalled sockets are held open (their handshake deadline is 5 s)');

  const third = tlsConnect({ host: '127.0.0.1', port, localAddress: '127.0.0.2', rejectUnauthorized: false } as ConnectionOptions);
  const outcome = await new Promise<string>((res) => {
    third.once('secureConnect', () => res('connected'));
    third.once('error', (e: NodeJS.ErrnoException) => res(e.code ?? e.message));
  });
  third.destroy();
  t.not(outcome, 'connected', `a third from the same address is refused (${outcome})`);
  t.same(refusedAt, ['per-address'], 'refused by the per-address gate');
  t.equal(sockets.stats.tlsHandshakeFailures, 0, 'before any handshake was spent on it (none failed)');
  t.equal(sockets.refusedCounts().tls, 1, 'and counted as a TLS refusal');
  t.ok(await handshakes(port, '127.0.0.1'), 'another address completes its handshake meanwhile');

  stalled[0]!.destroy();
  // The server hears of the close a moment later; until then the address is still at its cap.
  let again = false;
  for (let i = 0; i < 30 && !again; i++) {
    again = await handshakes(port, '127.0.0.2');
    if (!again) await new Promise((res) => setTimeout(res, 100));
  }
  t.ok(again, 'once one stalled socket closes, the address gets a TLS connection again');
  stalled[1]!.destroy();
});

t.test('T2: new credentials serve new handshakes, established connections stay; broken files change nothing (transports.md §2.1)', async (t) => {
  const { port, sockets } = await tlsStack(t);
  const early = await TlsSipPeer.open(port);
  t.teardown(() => early.close());
  t.equal(early.socket.getPeerX509Certificate()?.fingerprint256, pki.server.fingerprint256, 'the first certificate');

  sockets.reloadTls(readTlsCredentials({ certPath: pki.other.certPath, keyPath: pki.other.keyPath }));
  const late = await TlsSipPeer.open(port);
  t.teardown(() => late.close());
  t.equal(late.socket.getPeerX509Certificate()?.fingerprint256, pki.other.fingerprint256, 'a new handshake sees the new certificate');
  await early.write(optionsText('TLS', '127.0.0.1:5096'));
  t.same(statusCodes(await early.waitUntil((s) => statusCodes(s).length > 0)), [200], 'the connection made before the reload still works');

  // A key that does not belong to the certificate, and a file that is not PEM: refused before anything changes.
  t.throws(() => readTlsCredentials({ certPath: pki.server.certPath, keyPath: pki.other.keyPath }), TlsCredentialsError);
  t.throws(() => sockets.reloadTls({ cert: pki.server.cert, key: pki.other.key, minVersion: 'TLSv1.2' }), TlsCredentialsError);
  t.throws(() => readTlsCredentials({ certPath: pki.dir + '/missing.pem', keyPath: pki.server.keyPath }), /cannot be read/);
  const after = await TlsSipPeer.open(port);
  t.teardown(() => after.close());
  t.equal(after.socket.getPeerX509Certificate()?.fingerprint256, pki.other.fingerprint256, 'after a broken reload the last good certificate is served');
});

t.test('T3: a client certificate from the CA puts its SHA-256 fingerprint on the flow; a phone without one still works (security.md §3.3)', async (t) => {
  const { port, stack } = await tlsStack(t, { ca: true });
  const flows: Flow[] = [];
  const original = stack.ua.receive.bind(stack.ua);
  stack.ua.receive = (req, flow, s) => {
    flows.push(flow);
    original(req, flow, s);
  };
  const pbx = await TlsSipPeer.open(port, { cert: pki.client.cert, key: pki.client.key });
  t.teardown(() => pbx.close());
  await pbx.write(optionsText('TLS', '127.0.0.1:5095'));
  t.same(statusCodes(await pbx.waitUntil((s) => statusCodes(s).length > 0)), [200]);
  t.same(flows[0]?.tlsPeer, { fingerprint256: pki.client.fingerprint256, authorized: true }, 'the peer certificate, verified against the CA');

  const stranger = await TlsSipPeer.open(port, { cert: pki.other.cert, key: pki.other.key });
  t.teardown(() => stranger.close());
  await stranger.write(optionsText('TLS', '127.0.0.1:5094'));
  t.same(statusCodes(await stranger.waitUntil((s) => statusCodes(s).length > 0)), [200], 'an unverified certificate is no reason to refuse');
  t.same(flows[1]?.tlsPeer, { fingerprint256: pki.other.fingerprint256, authorized: false }, 'but it is marked unverified');

  const phone = await TlsSipPeer.open(port);
  t.teardown(() => phone.close());
  await phone.write(optionsText('TLS', '127.0.0.1:5093'));
  t.same(statusCodes(await phone.waitUntil((s) => statusCodes(s).length > 0)), [200], 'a phone without a certificate still works');
  t.equal(flows[2]?.tlsPeer, undefined);
});

t.test('a sips: target is dialled over TLS with the server certificate checked, never over TCP instead (RFC 3261 §26.2.2)', async (t) => {
  // The target: a TLS server whose certificate the CA signed, and one nobody vouches for.
  const server = await tlsStack(t);
  const credentials = readTlsCredentials({ certPath: pki.other.certPath, keyPath: pki.other.keyPath, caPath: pki.ca.certPath });
  const dialler = new SipTransport({ hosts: ['127.0.0.1'], port: 0, tls: { port: 0, credentials }, clock, logger: silentLogger });
  await dialler.start();
  t.teardown(() => dialler.close());
  const bytes = Buffer.from(optionsText('TLS', '127.0.0.1:5092'));
  const flow = await dialler.sendTo(bytes, { protocol: 'tls', host: '127.0.0.1', port: server.port });
  t.equal(flow.protocol, 'tls', 'over TLS, the certificate verified by the CA');

  const untrusting = new SipTransport({ hosts: ['127.0.0.1'], port: 0, clock, logger: silentLogger });
  await untrusting.start();
  t.teardown(() => untrusting.close());
  await t.rejects(untrusting.sendTo(bytes, { protocol: 'tls', host: '127.0.0.1', port: server.port }), { code: 'connect-failed' }, 'an unverifiable server gets nothing');
  t.equal(untrusting.connectionCount, 0, 'and no plaintext connection was opened instead');
  await t.rejects(untrusting.sendTo(bytes, { protocol: 'tcp', host: 'df7jal23ls0d.invalid', port: 5060 }), { code: 'connect-failed' }, '.invalid is never resolved');
});
