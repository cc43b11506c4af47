import { connect as tcpConnect, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { SystemClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { readTlsCredentials } from '../../../src/sip/transport/tls-credentials.js';
import { WS, WSS } from '../../../src/sip/transport/transport-descriptor.js';
import type { WsTransport, WsTransportOptions } from '../../../src/sip/transport/ws-transport.js';
import { createPresenceStack, socketListeners, type PresenceStack } from '../../../src/stack/index.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { pollUntil } from '../../support/poll-until.js';
import { WsSipPeer } from '../../support/secure-peers.js';
import { dialogInfo, okTo, optionsText, subscribeText } from '../../support/secure-requests.js';
import { buildPublish, TEST_FLOW } from '../../support/sip-builders.js';
import { statusCodes } from '../../support/sip-client.js';
import { makeTestPki } from '../../support/tls-certs.js';
import { frame, upgradeRaw } from '../../support/ws-raw.js';

/** SIP over WebSocket (RFC 7118; transports.md §3; security.md §6 rows W1-W5), through the stack on real sockets. */

const pki = makeTestPki();
t.teardown(() => pki.cleanup());
const clock = new SystemClock();

type WsOptions = Partial<Omit<WsTransportOptions, 'clock' | 'logger' | 'hosts'>>;

async function wsStack(t: Test, opts: WsOptions & { secure?: boolean; store?: MemoryStore } = {}): Promise<{ stack: PresenceStack; url: string; wssUrl: string; ws: WsTransport }> {
  const { secure: wss, store, ...rest } = opts;
  const credentials = readTlsCredentials({ certPath: pki.server.certPath, keyPath: pki.server.keyPath });
  const listeners = socketListeners({
    hosts: ['127.0.0.1'],
    port: 0,
    websocket: { ws: { port: 0 }, ...(wss ? { wss: { port: 0, credentials } } : {}), ...rest },
    clock,
    logger: silentLogger,
  });
  const stack = createPresenceStack({ clock, transports: listeners, ...(store ? { store } : {}) });
  await stack.start();
  const alive = setInterval(() => {}, 1000);
  t.teardown(async () => {
    clearInterval(alive);
    await stack.stop({ drainMs: 0 });
  });
  return {
    stack,
    url: `ws://127.0.0.1:${stack.portOf(WS)}`,
    wssUrl: wss ? `wss://127.0.0.1:${stack.portOf(WSS)}` : '',
    ws: listeners.ws as WsTransport,
  };
}

function publish(stack: PresenceStack, state: 'early' | 'confirmed' | 'terminated'): void {
  stack.receive(
    buildPublish({ target: '1001@example.com', contentType: 'application/dialog-info+xml', body: dialogInfo('sip:1001@example.com', state), expires: 600 }),
    TEST_FLOW,
    { respond: () => {} },
  );
}

const notifies = (messages: string[]): string[] => messages.filter((m) => m.startsWith('NOTIFY'));
const responses = (messages: string[]): string[] => messages.filter((m) => m.startsWith('SIP/2.0'));

/** Subscribes over `peer` and answers its first NOTIFY; returns the 200. */
async function subscribed(peer: WsSipPeer, via: 'WS' | 'WSS', sentBy = `${Math.random().toString(36).slice(2, 14)}.invalid`): Promise<string> {
  const start = peer.messages.length;
  await peer.send(subscribeText({ via, sentBy }));
  const got = await peer.waitUntil((m) => notifies(m.slice(start)).length >= 1);
  const notify = notifies(got.slice(start))[0]!;
  await peer.send(okTo(notify));
  return responses(got.slice(start))[0]!;
}

t.test('a SUBSCRIBE over WS and over WSS gets 200 and NOTIFYs on the same connection, the .invalid Via untouched (RFC 7118 §5, issue 20)', async (t) => {
  const { stack, url, wssUrl } = await wsStack(t, { secure: true });
  for (const [via, at] of [['WS', url], ['WSS', wssUrl]] as const) {
    const peer = await WsSipPeer.open(at);
    t.teardown(() => peer.close());
    const host = `df7jal23ls0d${via.toLowerCase()}.invalid`;
    const ok = await subscribed(peer, via, host);
    t.equal(statusCodes(ok)[0], 200, `${via}: 200`);
    // SIP.js drops a response whose top Via has a port or another host (transports.md §3.3): received only.
    t.match(ok, new RegExp(`^Via: SIP/2\\.0/${via} ${host};branch=z9hG4bK\\w+;received=127\\.0\\.0\\.1\\r?$`, 'm'), `${via}: sent-by as sent, received added`);
    const notify = notifies(peer.messages)[0]!;
    t.match(notify, new RegExp(`^Via: SIP/2\\.0/${via} `, 'm'), `${via}: our NOTIFY's Via names ${via}`);
    t.match(notify, via === 'WS' ? /^Contact: <sip:127\.0\.0\.1:\d+;transport=ws>/m : /^Contact: <sips:127\.0\.0\.1:\d+;transport=ws>/m, `${via}: our Contact`);
  }
  t.same(stack.notifier.liveRecords().map((r) => r.flow.protocol).sort(), ['ws', 'wss'], 'the admin view sees each transport');
  publish(stack, 'confirmed');
  // Both watchers hear the change on their own connections (checked through the stack's records' flows above).
  t.ok(await pollUntil(() => stack.notifier.liveRecords().every((r) => (r.lastNotify?.cseq ?? 0) >= 2), 3000), 'a second NOTIFY went to each');
});

t.test('W4: a closed connection ends its own subscriptions at once, without disturbing other watchers of the resource (Kamailio #4118)', async (t) => {
  const { stack, url } = await wsStack(t);
  const leaving = await WsSipPeer.open(url);
  const staying = await WsSipPeer.open(url);
  t.teardown(() => staying.close());
  await subscribed(leaving, 'WS');
  await subscribed(staying, 'WS');
  t.equal(stack.notifier.count(), 2);
  const removed: string[] = [];
  stack.feed.subscribe((e) => {
    if (e.kind === 'subscription-removed') removed.push(e.reason);
  });
  leaving.close(); // a page reload: the socket goes, no SUBSCRIBE Expires 0
  t.ok(await pollUntil(() => stack.notifier.count() === 1, 3000), 'the reloaded page\'s subscription is gone');
  await pollUntil(() => removed.length > 0, 1000);
  t.same(removed, ['disconnected'], 'removed as disconnected, no NOTIFY attempted');
  const before = notifies(staying.messages).length;
  publish(stack, 'early');
  const got = await staying.waitUntil((m) => notifies(m).length > before);
  t.match(notifies(got).at(-1), /<state>early<\/state>/, 'the other watcher still gets its NOTIFY');
});

t.test('W1: an upgrade without the sip subprotocol, with a foreign Origin, or without Sec-WebSocket-Key is refused at HTTP level', async (t) => {
  const { stack, url } = await wsStack(t, { origins: ['https://phone.example.com'] });
  const bystander = await WsSipPeer.open(url, { headers: { Origin: 'https://phone.example.com' } });
  t.teardown(() => bystander.close());
  await t.rejects(WsSipPeer.open(url, { protocols: [], headers: { Origin: 'https://phone.example.com' } }), { message: /: 400$/ }, 'no subprotocol: 400');
  await t.rejects(WsSipPeer.open(url, { protocols: ['xmpp'], headers: { Origin: 'https://phone.example.com' } }), { message: /: 400$/ }, 'another subprotocol only: 400');
  await t.rejects(WsSipPeer.open(url, { headers: { Origin: 'https://evil.example.net' } }), { message: /: 403$/ }, 'a foreign Origin: 403');
  await t.rejects(WsSipPeer.open(url), { message: /: 403$/ }, 'no Origin while a list is set: 403');
  const noKey = await rawHttp(url, 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\nOrigin: https://phone.example.com\r\n\r\n');
  t.match(noKey, /^HTTP\/1\.1 400 /, 'no Sec-WebSocket-Key: 400');
  const plain = await rawHttp(url, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  t.match(plain, /^HTTP\/1\.1 426 /, 'a plain HTTP request: 426 Upgrade Required');
  t.equal(stack.notifier.count(), 0, 'no SIP was processed');
  await bystander.send(optionsText('WS', 'bystander.invalid'));
  t.same(statusCodes((await bystander.waitUntil((m) => m.length > 0)).join('')), [200], 'the allowed connection is unharmed');
});

t.test('W2: broken frames close that connection only: unmasked or RSV bits 1002, 70 KiB 1009, invalid UTF-8 1007; 16k fragments are one message', async (t) => {
  const { url } = await wsStack(t);
  const bystander = await WsSipPeer.open(url);
  t.teardown(() => bystander.close());
  t.equal(await closeCodeAfter(url, [frame(1, Buffer.from('x'), { mask: false })]), 1002, 'an unmasked client frame: 1002');
  t.equal(await closeCodeAfter(url, [frame(1, Buffer.from('x'), { rsv: 0x40 })]), 1002, 'RSV1 without an extension: 1002');
  t.equal(await closeCodeAfter(url, [frame(2, Buffer.alloc(70 * 1024, 0x41))]), 1009, 'a 70 KiB message: 1009');
  t.equal(await closeCodeAfter(url, [frame(1, Buffer.from([0x4f, 0xff, 0xfe, 0x4b]))]), 1007, 'invalid UTF-8 in a text frame: 1007');

  // One SIP message of ~48 KiB in three 16 KiB fragments (RFC 6455 §5.4) is reassembled and answered.
  const pad = 'x'.repeat(48 * 1024);
  const big = Buffer.from(optionsText('WS', 'frag.invalid').replace('Content-Length: 0', `X-Pad: ${pad}\r\nContent-Length: 0`));
  const pieces = [big.subarray(0, 16384), big.subarray(16384, 32768), big.subarray(32768)];
  const raw = await upgradeRaw(url);
  raw.socket.write(frame(1, pieces[0]!, { fin: false }));
  raw.socket.write(frame(0, pieces[1]!, { fin: false }));
  raw.socket.write(frame(0, pieces[2]!));
  const reply = await raw.read((b) => b.includes('SIP/2.0 '));
  raw.socket.destroy();
  t.match(reply.toString('latin1'), /SIP\/2\.0 200 /, 'the fragmented message is one SIP message, answered 200');

  await bystander.send(optionsText('WS', 'bystander.invalid'));
  t.same(statusCodes((await bystander.waitUntil((m) => m.length > 0)).join('')), [200], 'other connections unaffected');
});

t.test('W3: two SIP messages in one WebSocket message get 400 for the first; CRLFCRLF is answered with CRLF (RFC 7118 §5.2, RFC 5626 §4.4.1)', async (t) => {
  const { url } = await wsStack(t);
  const peer = await WsSipPeer.open(url);
  t.teardown(() => peer.close());
  await peer.send(optionsText('WS', 'a.invalid') + optionsText('WS', 'a.invalid'));
  const got = await peer.waitUntil((m) => m.length >= 1);
  t.same(statusCodes(got[0]!), [400], 'one 400');
  await new Promise((r) => setTimeout(r, 200));
  t.equal(peer.messages.length, 1, 'and nothing for the second');
  await peer.send('\r\n\r\n');
  const pong = await peer.waitUntil((m) => m.length >= 2);
  t.equal(pong[1], '\r\n', 'CRLF pong');
  await peer.send(Buffer.from(optionsText('WS', 'a.invalid')), true);
  const bin = await peer.waitUntil((m) => m.length >= 3);
  t.same(statusCodes(bin[2]!), [200], 'a binary frame carries a SIP message as well as a text frame');
  t.notOk(peer.closed, 'the connection stays open');
});

t.test('W5: a peer that stops answering pings is closed after two missed, and its subscriptions end', async (t) => {
  const { stack, url } = await wsStack(t, { pingIntervalMs: 150 });
  const answering = await WsSipPeer.open(url);
  t.teardown(() => answering.close());
  const silent = await WsSipPeer.open(url, { autoPong: false });
  await subscribed(silent, 'WS');
  await subscribed(answering, 'WS');
  const started = Date.now();
  t.ok(await silent.waitClosed(3000), 'closed');
  const after = Date.now() - started;
  t.ok(after >= 250 && after < 2000, `after about three intervals (${after} ms for 150 ms)`);
  t.ok(await pollUntil(() => stack.notifier.count() === 1, 2000), 'its subscription ended');
  await new Promise((r) => setTimeout(r, 400));
  t.notOk(answering.closed, 'a peer that answers pings stays');
});

t.test('deadlines: an upgrade not done in time and a connection that never sends SIP are closed (security.md §4.2)', async (t) => {
  const { url } = await wsStack(t, { upgradeTimeoutMs: 400, firstMessageMs: 400 });
  const silentTcp = tcpConnect({ host: '127.0.0.1', port: Number(new URL(url).port) });
  silentTcp.on('error', () => {});
  let t0 = Date.now();
  t.ok(await closed(silentTcp, 3000), 'a TCP connection that never upgrades: closed');
  t.ok(Date.now() - t0 >= 300, `not before its deadline (${Date.now() - t0} ms)`);
  const quiet = await WsSipPeer.open(url);
  t0 = Date.now();
  t.ok(await quiet.waitClosed(3000), 'an upgraded connection that sends no SIP: closed');
  t.ok(Date.now() - t0 >= 300, `after its deadline (${Date.now() - t0} ms)`);
});

t.test('per-IP admission hook and the connection cap apply at accept, before any upgrade (security.md §4.2, C3)', async (t) => {
  const seen: string[] = [];
  const { url, ws } = await wsStack(t, {
    maxConnections: 2,
    connectionLimits: {
      admit: ({ address, transport, open }) => {
        seen.push(`${transport.name}:${address}:${open}`);
        return seen.length !== 2;
      },
    },
  });
  const first = await WsSipPeer.open(url);
  t.teardown(() => first.close());
  await t.rejects(WsSipPeer.open(url), 'the hook refused the second');
  const third = await WsSipPeer.open(url);
  t.teardown(() => third.close());
  await t.rejects(WsSipPeer.open(url), 'over the cap of 2');
  t.same(seen.slice(0, 3), ['ws:127.0.0.1:0', 'ws:127.0.0.1:1', 'ws:127.0.0.1:1'], 'asked with the connections already open from that address');
  t.ok(ws.stats.connectionsRejected >= 2);
});

t.test('WebSocket subscriptions are not restored after a restart: their connections died with the process (transports.md §3.2)', async (t) => {
  const store = new MemoryStore();
  const first = await wsStack(t, { store });
  const peer = await WsSipPeer.open(first.url);
  await subscribed(peer, 'WS');
  t.equal(first.stack.notifier.count(), 1);
  first.stack.notifier.checkpoint();
  // A crash: the stack is dropped without ending its subscriptions (a clean stop would close the socket first).
  first.stack.dispose();
  peer.close();
  const second = createPresenceStack({ clock, store });
  t.teardown(() => second.dispose());
  await second.restore();
  t.equal(second.notifier.count(), 0, 'nothing restored that no connection could reach');
});

// ---- raw WebSocket helpers (RFC 6455 §5.2 framing) ----

/** Sends the frames after an upgrade and returns the close code the server sends back. */
async function closeCodeAfter(url: string, frames: Buffer[]): Promise<number | undefined> {
  const raw = await upgradeRaw(url);
  for (const f of frames) raw.socket.write(f);
  const got = await raw.read((b) => b.length >= 4 && (b[0]! & 0x0f) === 8);
  raw.socket.destroy();
  if (got.length < 4 || (got[0]! & 0x0f) !== 8) return undefined;
  return got.readUInt16BE(2);
}

function rawHttp(url: string, request: string): Promise<string> {
  return new Promise((res) => {
    const socket = tcpConnect({ host: '127.0.0.1', port: Number(new URL(url).port) }, () => socket.write(request));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => res(text));
    setTimeout(() => {
      socket.destroy();
    }, 2000);
  });
}

function closed(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((res) => {
    if (socket.destroyed) return res(true);
    const timer = setTimeout(() => res(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      res(true);
    });
  });
}
