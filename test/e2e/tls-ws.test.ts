import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import JsSIP from 'jssip';
import t from 'tap';
import { TlsSipPeer, WsSipPeer } from '../support/secure-peers.js';
import { dialogInfo, okTo, optionsText, splitStream, subscribeText } from '../support/secure-requests.js';
import { removeDir, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { publishText } from '../support/sip-builders.js';
import { UdpPeer, statusCodes } from '../support/sip-client.js';
import { RFC4475_DIR } from '../support/sip-fixtures.js';
import { RFC4475_EXPECTED } from '../support/rfc4475-expected.js';
import { JsSipWsSocket } from '../support/jssip-ws-socket.js';
import { makeTestPki } from '../support/tls-certs.js';

/**
 * The built server with TLS, WS and WSS on (issue 20): real sockets, a real certificate reload by SIGHUP, JsSIP in
 * Node over WebSocket, and the RFC 4475 torture messages over TLS and WS. Runs with the open policy
 * (PISTON_SIP_AUTH=off): once digest authentication is merged, the SUBSCRIBEs here should carry a device's credentials.
 */

const pki = makeTestPki();
// The server reads its certificate from files this test replaces (T2).
const certPath = join(pki.dir, 'live-cert.pem');
const keyPath = join(pki.dir, 'live-key.pem');
copyFileSync(pki.server.certPath, certPath);
copyFileSync(pki.server.keyPath, keyPath);

let server: ServerProcess;
t.before(async () => {
  server = await startServerProcess({
    env: {
      PISTON_SIP_HOST: '127.0.0.1',
      PISTON_SIP_TLS_CERT: certPath,
      PISTON_SIP_TLS_KEY: keyPath,
      PISTON_SIP_HANDSHAKE_TIMEOUT_S: '2',
      PISTON_SIP_AUTH: 'off',
      PISTON_WARM_UP_ROUNDS: '0',
    },
  });
});
t.teardown(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  pki.cleanup();
});

function publishDialog(state: 'early' | 'confirmed' | 'terminated', user = '1001'): Promise<number[]> {
  return (async () => {
    const peer = await UdpPeer.open();
    try {
      const text = publishText({
        target: `${user}@127.0.0.1`,
        contentType: 'application/dialog-info+xml',
        body: dialogInfo(`sip:${user}@127.0.0.1`, state),
        expires: 600,
        headers: { Via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${Math.random().toString(36).slice(2)};rport` },
      });
      await peer.send(Buffer.from(text), server.sipPort);
      const got = await peer.waitFor(1, 3000);
      return got.map((b) => statusCodes(b.toString())[0] ?? -1);
    } finally {
      await peer.close();
    }
  })();
}

t.test('the ready line names the TLS, WS and WSS ports', async (t) => {
  t.ok(server.tlsPort && server.wsPort && server.wssPort, `tls ${server.tlsPort}, ws ${server.wsPort}, wss ${server.wssPort}`);
});

t.test('OPTIONS over TLS gets 200 (issue 20 acceptance)', async (t) => {
  const peer = await TlsSipPeer.open(server.tlsPort!);
  await peer.write(optionsText('TLS', '127.0.0.1:5099'));
  t.same(statusCodes(await peer.waitUntil((s) => statusCodes(s).length > 0)), [200]);
  peer.close();
});

t.test('plaintext to the TLS port and a WebSocket upgrade without sip are refused without harming other connections', async (t) => {
  const tlsWatcher = await TlsSipPeer.open(server.tlsPort!);
  t.teardown(() => tlsWatcher.close());
  const wsWatcher = await WsSipPeer.open(`ws://127.0.0.1:${server.wsPort}`);
  t.teardown(() => wsWatcher.close());
  const { TcpPeer } = await import('../support/sip-client.js');
  const plain = await TcpPeer.open(server.tlsPort!);
  await plain.write(optionsText('TCP', '127.0.0.1:5098'));
  await plain.waitUntil(() => false, 3000);
  t.ok(plain.closed, 'plaintext SIP to the TLS port: closed');
  t.same(statusCodes(plain.text), [], 'never answered');
  await t.rejects(WsSipPeer.open(`ws://127.0.0.1:${server.wsPort}`, { protocols: [] }), { message: /: 400$/ }, 'no sip subprotocol: 400');
  const silent = await TcpPeer.open(server.tlsPort!);
  const started = Date.now();
  await silent.waitUntil(() => false, 6000);
  t.ok(silent.closed, `a silent TLS client is closed at the handshake deadline (${Date.now() - started} ms for 2 s)`);
  await tlsWatcher.write(optionsText('TLS', '127.0.0.1:5097'));
  t.same(statusCodes(await tlsWatcher.waitUntil((s) => statusCodes(s).length > 0)), [200], 'the TLS connection is unharmed');
  await wsWatcher.send(optionsText('WS', 'unharmed.invalid'));
  t.same(statusCodes((await wsWatcher.waitUntil((m) => m.length > 0)).join('')), [200], 'the WebSocket connection is unharmed');
});

t.test('T2: SIGHUP with new files: new handshakes see the new certificate, an established TLS subscription keeps its NOTIFYs; broken files keep the old', async (t) => {
  const watcher = await TlsSipPeer.open(server.tlsPort!);
  t.teardown(() => watcher.close());
  t.equal(watcher.socket.getPeerX509Certificate()?.fingerprint256, pki.server.fingerprint256);
  await watcher.write(subscribeText({ via: 'TLS', user: '1002', domain: '127.0.0.1' }));
  const first = splitStream(await watcher.waitUntil((s) => splitStream(s).some((m) => m.startsWith('NOTIFY'))));
  t.equal(statusCodes(first[0]!)[0], 200);
  await watcher.write(okTo(first.find((m) => m.startsWith('NOTIFY'))!));

  copyFileSync(pki.other.certPath, certPath);
  copyFileSync(pki.other.keyPath, keyPath);
  process.kill(server.pid, 'SIGHUP');
  await server.waitForLog(/tls certificate reloaded/, 5000);
  const renewed = await TlsSipPeer.open(server.tlsPort!);
  t.equal(renewed.socket.getPeerX509Certificate()?.fingerprint256, pki.other.fingerprint256, 'a new handshake sees the new certificate');
  renewed.close();

  t.same(await publishDialog('confirmed', '1002'), [200]);
  const later = splitStream(await watcher.waitUntil((s) => splitStream(s).filter((m) => m.startsWith('NOTIFY')).length >= 2));
  t.match(later.filter((m) => m.startsWith('NOTIFY'))[1], /<state>confirmed<\/state>/, 'the subscription made before the reload still gets its NOTIFYs');

  writeFileSync(certPath, '-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n');
  process.kill(server.pid, 'SIGHUP');
  const logged = await server.waitForLog(/tls certificate reload failed/, 5000);
  t.equal(logged.level, 50, 'an error is logged');
  const after = await TlsSipPeer.open(server.tlsPort!);
  t.equal(after.socket.getPeerX509Certificate()?.fingerprint256, pki.other.fingerprint256, 'the last good certificate is still served');
  after.close();
  copyFileSync(pki.other.certPath, certPath);
});

t.test('W6 (open policy): JsSIP in Node over ws subscribes to dialog and sees the lamp change on its connection', async (t) => {
  JsSIP.debug.disable('JsSIP:*');
  const socket = new JsSipWsSocket(`ws://127.0.0.1:${server.wsPort}`);
  const ua = new JsSIP.UA({ sockets: [socket as never], uri: 'sip:2002@127.0.0.1', password: 'unused', register: false, user_agent: 'JsSIP-node-ws' });
  const bodies: string[] = [];
  const connected = new Promise<void>((res) => ua.on('connected', () => res()));
  ua.start();
  t.teardown(() => ua.stop());
  await connected;
  const sub = ua.subscribe('sip:1003@127.0.0.1', 'dialog', 'application/dialog-info+xml', { expires: 120 });
  const active = new Promise<void>((res) => sub.on('active', () => res()));
  sub.on('notify', (_final: boolean, _req: unknown, body?: string) => bodies.push(body ?? ''));
  sub.subscribe();
  await active;
  await waitUntil(() => bodies.length >= 1, 3000);
  t.ok(bodies.length >= 1, 'the first NOTIFY arrived');
  t.same(await publishDialog('early', '1003'), [200]);
  await waitUntil(() => bodies.some((b) => /<state>early<\/state>/.test(b)), 3000);
  t.ok(bodies.some((b) => /<state>early<\/state>/.test(b)), 'the change arrived over the WebSocket');
  sub.terminate();
  await new Promise((r) => setTimeout(r, 200));
});

t.test('metrics per transport: open connections, refused ones, NOTIFYs sent (issue 20 item 3)', async (t) => {
  const tls = await TlsSipPeer.open(server.tlsPort!);
  t.teardown(() => tls.close());
  const ws = await WsSipPeer.open(`ws://127.0.0.1:${server.wsPort}`);
  t.teardown(() => ws.close());
  await ws.send(subscribeText({ via: 'WS', user: '1004', domain: '127.0.0.1' }));
  const notify = (await ws.waitUntil((m) => m.some((x) => x.startsWith('NOTIFY')))).find((x) => x.startsWith('NOTIFY'))!;
  await ws.send(okTo(notify));
  const text = await (await fetch(`http://127.0.0.1:${server.apiPort}/metrics`)).text();
  t.match(text, /^piston_sip_connections\{transport="tls"\} [1-9]\d*$/m, 'open TLS connections');
  t.match(text, /^piston_sip_connections\{transport="ws"\} [1-9]\d*$/m, 'open WS connections');
  t.match(text, /^piston_sip_connections\{transport="wss"\} 0$/m, 'WSS listed with none');
  t.match(text, /^piston_sip_connections_refused_total\{transport="tls"\} [1-9]\d*$/m, 'the refused TLS handshakes of the earlier test');
  t.match(text, /^piston_sip_connections_refused_total\{transport="ws"\} [1-9]\d*$/m, 'the refused upgrade of the earlier test');
  t.match(text, /^piston_notify_sent_by_transport_total\{transport="ws"\} [1-9]\d*$/m, 'NOTIFYs sent over WS');
  t.match(text, /^piston_notify_sent_by_transport_total\{transport="tls"\} [1-9]\d*$/m, 'NOTIFYs sent over TLS');
});

const files = readdirSync(RFC4475_DIR).filter((f) => f.endsWith('.dat')).sort();

t.test('R4: every RFC 4475 message over TLS gets the stream answer, and the server stays responsive', async (t) => {
  for (const file of files) {
    const expected = RFC4475_EXPECTED[file];
    if (!expected) continue;
    const status = expected.tcp !== undefined ? expected.tcp : expected.status;
    const peer = await TlsSipPeer.open(server.tlsPort!);
    await peer.write(readFileSync(join(RFC4475_DIR, file)));
    const text = await peer.waitUntil((s) => statusCodes(s).length >= 1, status === null ? 300 : 3000);
    peer.close();
    t.same(statusCodes(text).slice(0, 1), status === null ? [] : [status], `${file} over TLS: ${expected.why}`);
  }
  const peer = await TlsSipPeer.open(server.tlsPort!);
  await peer.write(optionsText('TLS', '127.0.0.1:5090'));
  t.same(statusCodes(await peer.waitUntil((s) => statusCodes(s).length > 0)), [200], 'still answering over TLS');
  peer.close();
});

/** Over WebSocket a message is whole, as in a datagram (RFC 7118 §5.2), except that trailing octets are a second message. */
const WS_DIFFERS: Record<string, number> = {
  'dblreq.dat': 400, // one SIP message per WebSocket message: the REGISTER and the INVITE behind it get 400
};

t.test('R4: every RFC 4475 message over WS gets the datagram answer (one message per WebSocket message), the server stays responsive', async (t) => {
  const peer = await WsSipPeer.open(`ws://127.0.0.1:${server.wsPort}`);
  t.teardown(() => peer.close());
  for (const file of files) {
    const expected = RFC4475_EXPECTED[file];
    if (!expected) continue;
    const status = WS_DIFFERS[file] ?? expected.status;
    const conn = await WsSipPeer.open(`ws://127.0.0.1:${server.wsPort}`);
    await conn.send(readFileSync(join(RFC4475_DIR, file)), true);
    const got = await conn.waitUntil((m) => m.some((x) => statusCodes(x).length > 0), status === null ? 300 : 3000);
    conn.close();
    t.same(got.flatMap((x) => statusCodes(x)).slice(0, 1), status === null ? [] : [status], `${file} over WS: ${expected.why}`);
  }
  await peer.send(optionsText('WS', 'after.invalid'));
  t.same(statusCodes((await peer.waitUntil((m) => m.length > 0)).join('')), [200], 'a connection open throughout still answers');
  t.equal(server.lines.filter((l) => /"level":(50|60)/.test(l) && !/tls certificate reload failed/.test(l)).length, 0, 'no error was logged by the server');
});

async function waitUntil(ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}
