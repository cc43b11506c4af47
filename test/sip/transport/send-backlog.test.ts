import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import t from 'tap';
import { WebSocket } from 'ws';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { ConnectionLimitReason } from '../../../src/sip/transport/admission.js';
import type { Flow } from '../../../src/sip/transport/flow.js';
import { judgeBacklog, SendBacklog, type PeerSendAllowance } from '../../../src/sip/transport/send-backlog.js';
import { SipTransport } from '../../../src/sip/transport/sip-transport.js';
import { WS } from '../../../src/sip/transport/transport-descriptor.js';
import { WsTransport } from '../../../src/sip/transport/ws-transport.js';

/**
 * The send backlog rule (security.md §4.2, issue 20): a stuck phone is dropped at the common limit; a trusted proxy or
 * trunk that carries everyone's traffic may queue more while it drains, and is dropped once it takes nothing for the
 * stall time or passes its own ceiling.
 */

const KB = 1024;
const FLOW: Flow = { protocol: 'tls', localAddress: '127.0.0.1', localPort: 5061, remoteAddress: '192.0.2.7', remotePort: 40000, connectionId: 1 };

t.test('judgeBacklog: under the common limit always fine, over the ceiling always dropped, between them dropped only when stalled', (t) => {
  const limits = { softBytes: 100, hardBytes: 1000, stallMs: 5000 };
  t.equal(judgeBacklog(100, 60_000, limits), 'ok', 'at the common limit, however long undrained');
  t.equal(judgeBacklog(101, 0, limits), 'ok', 'over it but just now drained');
  t.equal(judgeBacklog(1000, 4999, limits), 'ok', 'at the ceiling, drained within the stall time');
  t.equal(judgeBacklog(101, 5000, limits), 'stalled', 'over it and nothing taken for the stall time');
  t.equal(judgeBacklog(1001, 0, limits), 'over-limit', 'over the ceiling even while draining');
  t.equal(judgeBacklog(101, 0, { softBytes: 100, hardBytes: 100, stallMs: 0 }), 'over-limit', 'no room between: the old hard limit');
  t.end();
});

/** A SendBacklog over a queue the test sets, on a manual clock. */
function backlog(o: { allowance?: PeerSendAllowance; soft?: number } = {}) {
  const clock = new ManualClock();
  let queued = 0;
  const stalls: string[] = [];
  const b = new SendBacklog({
    softBytes: o.soft ?? 100 * KB,
    allowance: o.allowance,
    flow: FLOW,
    clock,
    queued: () => queued,
    onStall: (why) => stalls.push(why),
  });
  return { b, clock, stalls, setQueued: (n: number) => (queued = n) };
}

t.test('an untrusted peer (a phone) is dropped as soon as its unsent bytes pass the common limit', (t) => {
  let asked = 0;
  const { b, setQueued } = backlog({ allowance: { bytes: 10_000 * KB, stallMs: 5000, trusted: () => (asked++, false) } });
  setQueued(100 * KB - 10);
  t.equal(b.check(10), undefined, 'up to the limit');
  t.match(b.check(11), /send buffer limit exceeded/, 'one byte over: dropped, drained or not');
  t.equal(asked, 1, 'trust asked once the limit was passed');
  t.end();
});

t.test('without an allowance every peer has the common limit', (t) => {
  const { b, setQueued } = backlog();
  setQueued(100 * KB);
  t.match(b.check(1), /send buffer limit exceeded/);
  t.end();
});

t.test('a trusted peer that drains keeps its connection over the common limit, however long the backlog lasts', (t) => {
  let asked = 0;
  const { b, clock, stalls, setQueued } = backlog({ allowance: { bytes: 1000 * KB, stallMs: 5000, trusted: () => (asked++, true) } });
  setQueued(500 * KB);
  t.equal(b.check(KB), undefined, 'over the common limit, under its ceiling');
  for (let i = 0; i < 10; i++) {
    clock.advance(4000);
    b.taken(); // the peer took some bytes, the backlog still over the common limit
    t.equal(b.check(KB), undefined, `still queued at ${(i + 1) * 4} s`);
  }
  t.same(stalls, [], 'the stall timer never found it stuck');
  t.equal(asked, 1, 'trust asked once per connection');
  t.end();
});

t.test('a trusted peer that stops reading is dropped by the timer after the stall time, with no write needed', (t) => {
  const { b, clock, stalls, setQueued } = backlog({ allowance: { bytes: 1000 * KB, stallMs: 5000, trusted: () => true } });
  setQueued(300 * KB);
  t.equal(b.check(KB), undefined);
  clock.advance(4999);
  t.same(stalls, [], 'not before the stall time');
  clock.advance(1);
  t.equal(stalls.length, 1, 'dropped at the stall time');
  t.match(stalls[0], /none taken for 5000 ms/);
  t.end();
});

t.test('the stall time counts from when the backlog passed the common limit, not from bytes taken long before', (t) => {
  const { b, clock, stalls, setQueued } = backlog({ allowance: { bytes: 1000 * KB, stallMs: 5000, trusted: () => true } });
  setQueued(200 * KB);
  t.equal(b.check(KB), undefined);
  b.taken();
  setQueued(50 * KB);
  b.taken(); // drained under the limit: the episode is over
  clock.advance(60_000);
  setQueued(200 * KB);
  t.equal(b.check(KB), undefined, 'a new backlog a minute later is not judged stalled at once');
  clock.advance(4000);
  t.same(stalls, []);
  t.equal(b.check(KB), undefined);
  clock.advance(1000);
  t.equal(stalls.length, 1, 'but is after 5 s without bytes taken');
  t.end();
});

t.test('a trusted peer is dropped over its own ceiling even while it drains', (t) => {
  const { b, setQueued } = backlog({ allowance: { bytes: 1000 * KB, stallMs: 5000, trusted: () => true } });
  setQueued(1000 * KB - 1);
  b.taken();
  t.equal(b.check(1), undefined);
  t.match(b.check(2), /send buffer limit exceeded: .*limit 1024000, trusted peer/);
  t.end();
});

t.test('a backlog that drains under the common limit stops its stall timer', (t) => {
  const { b, clock, stalls, setQueued } = backlog({ allowance: { bytes: 1000 * KB, stallMs: 5000, trusted: () => true } });
  setQueued(300 * KB);
  t.equal(b.check(KB), undefined);
  setQueued(10 * KB);
  b.taken();
  t.equal(clock.pending, 0, 'no timer left');
  clock.advance(10_000);
  t.same(stalls, []);
  t.end();
});

// ---- on real sockets: SipTransport over TCP (TLS runs the same TcpConnection) ----

async function transportWith(t: { teardown(fn: () => unknown): void }, soft: number, allowance: PeerSendAllowance | undefined) {
  const clock = new ManualClock();
  const limits: ConnectionLimitReason[] = [];
  const transport = new SipTransport({
    hosts: ['127.0.0.1'],
    port: 0,
    udp: false,
    clock,
    logger: silentLogger,
    maxBufferedBytes: soft,
    connectionLimits: { sendAllowance: allowance, onLimit: (r) => limits.push(r) },
  });
  await transport.start();
  t.teardown(() => transport.close());
  const flows: Flow[] = [];
  transport.onMessage((_msg, flow) => flows.push(flow));
  const closed: Flow[] = [];
  transport.onFlowClosed((f) => closed.push(f));
  return { clock, transport, flows, closed, limits };
}

const OPTIONS =
  'OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.30:5060;branch=z9hG4bKbl1\r\nMax-Forwards: 70\r\n' +
  'From: <sip:proxy@example.com>;tag=p\r\nTo: <sip:127.0.0.1>\r\nCall-ID: backlog@proxy\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/** Waits (real time, bounded) until `pred` holds. */
async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await settle();
  }
}

/** A connected peer that has sent one message (so the server has its flow), paused: it reads nothing yet. */
async function pausedPeer(t: { teardown(fn: () => unknown): void }, port: number, flows: Flow[]): Promise<{ socket: Socket; flow: Flow; received: () => number }> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  t.teardown(() => socket.destroy());
  socket.on('error', () => {});
  let received = 0;
  socket.on('data', (c: Buffer) => (received += c.length));
  socket.write(OPTIONS);
  await until(() => flows.length > 0, 'the first message');
  socket.pause();
  return { socket, flow: flows[flows.length - 1]!, received: () => received };
}

/** Writes 64 KB chunks until more than `pastBytes` sit unsent in our own buffer (the kernel's are full). */
async function fillBacklog(transport: Pick<SipTransport, 'send'>, flow: Flow, pastBytes: number) {
  const chunk = Buffer.alloc(64 * KB, 0x41);
  let sent = 0;
  let taken = 0;
  const refusals: string[] = [];
  for (let i = 0; i < 1000; i++) {
    for (let j = 0; j < 8; j++) {
      sent++;
      transport.send(chunk, flow).then(
        () => taken++,
        (e: { code: string }) => refusals.push(e.code),
      );
    }
    await settle();
    if (refusals.length > 0 || (sent - taken - refusals.length) * chunk.length > pastBytes) break;
  }
  return { unsent: () => (sent - taken - refusals.length) * chunk.length, taken: () => taken, sentBytes: sent * chunk.length, refusals };
}

t.test('TCP: an untrusted peer that does not read is dropped at the common limit (the stuck phone)', async (t) => {
  const { transport, flows, limits } = await transportWith(t, 128 * KB, { bytes: 64 * 1024 * KB, stallMs: 5000, trusted: () => false });
  const peer = await pausedPeer(t, transport.port, flows);
  const fill = await fillBacklog(transport, peer.flow, 8 * 1024 * KB);
  t.ok(fill.refusals.includes('limit'), 'a send refused at the limit');
  await until(() => transport.connectionCount === 0, 'the drop');
  t.same(limits, ['send-backlog'], 'dropped, counted as a send-backlog drop');
});

t.test('TCP: a trusted peer that reads slowly keeps its connection past the common limit; one that stops is dropped after the stall time', async (t) => {
  const { clock, transport, flows, closed, limits } = await transportWith(t, 128 * KB, { bytes: 64 * 1024 * KB, stallMs: 5000, trusted: () => true });
  const peer = await pausedPeer(t, transport.port, flows);
  const fill = await fillBacklog(transport, peer.flow, 16 * 1024 * KB);
  t.same(fill.refusals, [], 'nothing refused');
  t.ok(fill.unsent() > 16 * 1024 * KB, `${fill.unsent()} bytes unsent, past the common limit of 128 KB`);
  clock.advance(4000);
  // The peer reads until our buffer has handed the kernel some more (a write taken), then stops again: still past
  // the common limit. (How much it must read for that depends on the kernel's window updates, so it is not fixed.)
  const before = fill.taken();
  const reader = (): void => {
    if (fill.taken() === before) return;
    peer.socket.pause();
    peer.socket.off('data', reader);
  };
  peer.socket.on('data', reader);
  peer.socket.resume();
  await until(() => fill.taken() > before, 'a write taken');
  t.ok(fill.unsent() > 128 * KB, 'still past the common limit');
  clock.advance(4000);
  t.equal(transport.connectionCount, 1, '8 s past the limit, but it read 4 s ago: kept');
  t.same(closed, []);
  clock.advance(999);
  t.equal(transport.connectionCount, 1, 'and still kept just under 5 s after the last read');
  clock.advance(1);
  await until(() => transport.connectionCount === 0, 'the drop');
  t.equal(closed.length, 1, 'dropped once nothing was taken for the stall time');
  t.same(limits, ['send-backlog']);
});

t.test('TCP: a trusted peer that drains gets everything, several times the common limit', async (t) => {
  const { transport, flows, closed } = await transportWith(t, 128 * KB, { bytes: 64 * 1024 * KB, stallMs: 5000, trusted: () => true });
  const peer = await pausedPeer(t, transport.port, flows);
  const fill = await fillBacklog(transport, peer.flow, 1024 * KB);
  t.same(fill.refusals, []);
  const total = fill.sentBytes;
  peer.socket.resume();
  await until(() => fill.unsent() === 0 && peer.received() >= total, 'every byte');
  t.ok(peer.received() >= total, `every byte arrived (${total})`);
  t.same(closed, [], 'never dropped');
});

// ---- the same rule on a WebSocket (WsConnection) ----

async function wsTransportWith(t: { teardown(fn: () => unknown): void }, soft: number, allowance: PeerSendAllowance) {
  const clock = new ManualClock();
  const limits: ConnectionLimitReason[] = [];
  const transport = new WsTransport({
    hosts: ['127.0.0.1'],
    ws: { port: 0 },
    clock,
    logger: silentLogger,
    maxBufferedBytes: soft,
    connectionLimits: { sendAllowance: allowance, onLimit: (r) => limits.push(r) },
  });
  const flows: Flow[] = [];
  transport.onMessage((_msg, flow) => flows.push(flow));
  await transport.start();
  t.teardown(() => transport.close());
  return { clock, transport, flows, limits, url: `ws://127.0.0.1:${transport.portOf(WS)}` };
}

/** A ws client that sent one OPTIONS, then stops reading (its socket paused: the kernel buffers fill, then ours). */
async function pausedWsPeer(t: { teardown(fn: () => unknown): void }, url: string, flows: Flow[]): Promise<{ flow: Flow; resume(): void }> {
  const ws = new WebSocket(url, 'sip');
  ws.on('error', () => {});
  await once(ws, 'open');
  t.teardown(() => ws.terminate());
  ws.send(OPTIONS.replace('SIP/2.0/TCP 192.0.2.30:5060', 'SIP/2.0/WS bl.invalid'));
  await until(() => flows.length > 0, 'the first message');
  ws.pause();
  return { flow: flows[flows.length - 1]!, resume: () => ws.resume() };
}

t.test('WS: an untrusted peer that does not read is dropped at the common limit; a trusted one is kept until the stall time', async (t) => {
  const untrusted = await wsTransportWith(t, 128 * KB, { bytes: 64 * 1024 * KB, stallMs: 5000, trusted: () => false });
  const phone = await pausedWsPeer(t, untrusted.url, untrusted.flows);
  const dropped = await fillBacklog(untrusted.transport, phone.flow, 8 * 1024 * KB);
  t.ok(dropped.refusals.includes('limit'), 'untrusted: a send refused at the limit');
  await until(() => untrusted.transport.connectionCount === 0, 'the drop');
  t.same(untrusted.limits, ['send-backlog']);

  const trusted = await wsTransportWith(t, 128 * KB, { bytes: 64 * 1024 * KB, stallMs: 5000, trusted: () => true });
  const proxy = await pausedWsPeer(t, trusted.url, trusted.flows);
  const kept = await fillBacklog(trusted.transport, proxy.flow, 1024 * KB);
  t.same(kept.refusals, [], 'trusted: nothing refused past the common limit');
  trusted.clock.advance(4999);
  t.equal(trusted.transport.connectionCount, 1, 'kept until the stall time');
  trusted.clock.advance(1);
  await until(() => trusted.transport.connectionCount === 0, 'the stall drop');
  t.same(trusted.limits, ['send-backlog']);
});
