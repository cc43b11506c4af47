import t from 'tap';
import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { ManualClock } from '../../../src/lib/clock.js';
import { recordingLogger, silentLogger } from '../../../src/lib/logger.js';
import type { SipMessage, SipRequest } from '../../../src/sip/message/message.js';
import { createResponse } from '../../../src/sip/message/response-factory.js';
import { parseMessage } from '../../../src/sip/parser/parse-message.js';
import type { Flow } from '../../../src/sip/transport/flow.js';
import { SipTransport, type SipTransportOptions } from '../../../src/sip/transport/sip-transport.js';

function subscribe(o: { via?: string; callId?: string; body?: string; contentLength?: string | null; method?: string } = {}): string {
  const body = o.body ?? '';
  const method = o.method ?? 'SUBSCRIBE';
  const lines = [
    `${method} sip:1001@example.com SIP/2.0`,
    `Via: ${o.via ?? 'SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa1;rport'}`,
    'Max-Forwards: 70',
    'From: <sip:2001@example.com>;tag=f1',
    'To: <sip:1001@example.com>',
    `Call-ID: ${o.callId ?? 'c1@192.0.2.10'}`,
    `CSeq: 1 ${method}`,
    'Event: dialog',
    ...(o.contentLength === null ? [] : [`Content-Length: ${o.contentLength ?? Buffer.byteLength(body)}`]),
    '',
    body,
  ];
  return lines.join('\r\n');
}

/** The part of tap's Test the helpers use. */
interface HasTeardown {
  teardown(fn: () => unknown): void;
}

interface Received {
  msg: SipMessage;
  flow: Flow;
}

async function startTransport(t: HasTeardown, opts: Partial<SipTransportOptions> = {}) {
  const clock = new ManualClock();
  const transport = new SipTransport({ hosts: ['127.0.0.1', '::1'], port: 0, clock, logger: silentLogger, ...opts });
  await transport.start();
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  transport.onMessage((msg, flow) => {
    received.push({ msg, flow });
    for (const w of waiters.splice(0)) w();
  });
  t.teardown(() => transport.close());
  /** Resolves once `n` messages have arrived. */
  const messages = async (n: number): Promise<Received[]> => {
    while (received.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    return received;
  };
  return { clock, transport, received, messages };
}

async function udpClient(t: HasTeardown, family: 4 | 6) {
  const socket: UdpSocket = createSocket(family === 6 ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, family === 6 ? '::1' : '127.0.0.1', resolve));
  t.teardown(() => socket.close());
  const next = async (): Promise<{ data: Buffer; rinfo: RemoteInfo }> => {
    const [data, rinfo] = (await once(socket, 'message')) as [Buffer, RemoteInfo];
    return { data, rinfo };
  };
  return { socket, next, port: socket.address().port };
}

async function tcpClient(t: HasTeardown, host: string, port: number) {
  const socket: Socket = connect({ host, port });
  await once(socket, 'connect');
  t.teardown(() => socket.destroy());
  let data = Buffer.alloc(0);
  let waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    data = Buffer.concat([data, chunk]);
    for (const w of waiters.splice(0)) w();
  });
  const closed = once(socket, 'close').then(() => {
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => {});
  /** Resolves once the bytes received so far satisfy `pred` (or the socket closed). */
  const until = async (pred: (s: string) => boolean): Promise<string> => {
    while (!pred(data.toString()) && !socket.destroyed && socket.readable) await new Promise<void>((r) => waiters.push(r));
    return data.toString();
  };
  return { socket, until, closed, get text() { return data.toString(); } };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** True when `closed` settles within `ms` (real time): a connection the server should drop must not linger. */
async function closesWithin(closed: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([closed.then(() => true), expired]);
  clearTimeout(timer);
  return result;
}

t.test('UDP and TCP listen on one port on IPv4 and IPv6 (RFC 3261 §18)', async (t) => {
  const { transport, messages } = await startTransport(t);
  t.ok(transport.port > 0, 'port 0 picked an ephemeral port and reports it');
  const u4 = await udpClient(t, 4);
  const u6 = await udpClient(t, 6);
  u4.socket.send(subscribe({ callId: 'u4' }), transport.port, '127.0.0.1');
  u6.socket.send(subscribe({ callId: 'u6' }), transport.port, '::1');
  const c4 = await tcpClient(t, '127.0.0.1', transport.port);
  const c6 = await tcpClient(t, '::1', transport.port);
  c4.socket.write(subscribe({ callId: 't4', via: 'SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bKt4' }));
  c6.socket.write(subscribe({ callId: 't6', via: 'SIP/2.0/TCP [2001:db8::10]:5062;branch=z9hG4bKt6' }));
  const got = await messages(4);
  const seen = got.map((r) => `${r.flow.protocol}:${r.flow.remoteAddress}:${(r.msg as SipRequest).callId}`).sort();
  t.same(seen, ['tcp:127.0.0.1:t4', 'tcp:::1:t6', 'udp:127.0.0.1:u4', 'udp:::1:u6']);
});

t.test('a UDP request is answered from the same socket to its source address and port (RFC 3261 §18.2.2, RFC 3581 §4)', async (t) => {
  const { transport, messages } = await startTransport(t);
  const client = await udpClient(t, 4);
  client.socket.send(subscribe(), transport.port, '127.0.0.1');
  const [{ msg, flow }] = await messages(1);
  const req = msg as SipRequest;
  t.equal(flow.remotePort, client.port);
  t.equal(req.topVia.params.get('received'), '127.0.0.1', 'received filled (sent-by differs)');
  t.equal(req.topVia.params.get('rport'), String(client.port), 'empty rport filled with the source port');
  const reply = client.next();
  await transport.send(createResponse(req, 200, undefined, { toTag: 'x' }), flow);
  const { data, rinfo } = await reply;
  t.equal(rinfo.port, transport.port, 'from the port the request went to');
  t.equal(rinfo.address, '127.0.0.1');
  const res = parseMessage(data);
  t.equal(res.isRequest(), false);
  t.equal(res.topVia.params.get('rport'), String(client.port), 'the response carries the filled rport');
  t.equal(res.topVia.params.get('received'), '127.0.0.1');
});

t.test('Via received is added only when sent-by differs from the source, rport only when asked for (RFC 3261 §18.2.1, RFC 3581 §4)', async (t) => {
  const { transport, messages } = await startTransport(t);
  const client = await udpClient(t, 4);
  client.socket.send(subscribe({ callId: 'a', via: `SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKa` }), transport.port, '127.0.0.1');
  client.socket.send(subscribe({ callId: 'b', via: 'SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKb' }), transport.port, '127.0.0.1');
  client.socket.send(subscribe({ callId: 'c', via: `SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bKc;rport` }), transport.port, '127.0.0.1');
  const got = await messages(3);
  const byCallId = new Map(got.map((r) => [(r.msg as SipRequest).callId, (r.msg as SipRequest).topVia.params]));
  t.equal(byCallId.get('a')!.has('received'), false, 'same address: no received');
  t.equal(byCallId.get('a')!.has('rport'), false);
  t.equal(byCallId.get('b')!.get('received'), '127.0.0.1');
  t.equal(byCallId.get('b')!.has('rport'), false, 'no rport when not asked for');
  t.equal(byCallId.get('c')!.get('received'), '127.0.0.1', 'with rport, received is set even when equal');
  t.equal(byCallId.get('c')!.get('rport'), String(client.port));
});

t.test('over IPv6 the response goes back to the ::1 source port, received without brackets (RFC 3581 §4)', async (t) => {
  const { transport, messages } = await startTransport(t);
  const client = await udpClient(t, 6);
  client.socket.send(subscribe({ via: 'SIP/2.0/UDP [2001:db8::10]:5062;branch=z9hG4bKv6;rport' }), transport.port, '::1');
  const [{ msg, flow }] = await messages(1);
  const req = msg as SipRequest;
  t.equal(req.topVia.params.get('received'), '::1');
  t.equal(req.topVia.params.get('rport'), String(client.port));
  const reply = client.next();
  await transport.send(createResponse(req, 200, undefined, { toTag: 'x' }), flow);
  const { rinfo } = await reply;
  t.equal(rinfo.address, '::1');
  t.equal(rinfo.port, transport.port);
});

t.test('stray CRLFs on UDP are ignored (RFC 3261 §7.5, RFC 5626 §4.4.1)', async (t) => {
  const { transport, messages, received } = await startTransport(t);
  const client = await udpClient(t, 4);
  client.socket.send('\r\n\r\n', transport.port, '127.0.0.1');
  client.socket.send('\r\n' + subscribe(), transport.port, '127.0.0.1');
  await messages(1);
  await tick();
  t.equal(received.length, 1);
  t.equal(transport.stats.parseErrors, 0);
});

t.test('an unparseable datagram is answered 400 when a response can be built (RFC 3261 §8.2.6, RFC 4475 §3.1.2)', async (t) => {
  const { transport } = await startTransport(t);
  const client = await udpClient(t, 4);
  const reply = client.next();
  // Content-Length larger than the datagram (RFC 4475 §3.1.2.7 style): the request is readable but invalid.
  client.socket.send(subscribe({ contentLength: '500', body: 'short' }), transport.port, '127.0.0.1');
  const { data } = await reply;
  t.match(data.toString(), /^SIP\/2\.0 400 /);
  t.equal(transport.stats.parseErrorsAnswered, 1);
});

t.test('an unparseable datagram without the headers for a response is dropped and logged at debug (RFC 3261 §8.2.6)', async (t) => {
  const logger = recordingLogger();
  const { transport, messages: arrived } = await startTransport(t, { logger });
  const client = await udpClient(t, 4);
  client.socket.send('this is not SIP\r\n\r\n', transport.port, '127.0.0.1');
  // Datagrams on loopback arrive in order: once the valid one is in, the garbage has been handled.
  client.socket.send(subscribe(), transport.port, '127.0.0.1');
  await arrived(1);
  t.equal(transport.stats.parseErrors, 1);
  t.equal(transport.stats.parseErrorsAnswered, 0);
  t.ok(logger.records.some((r) => r.level === 'debug' && typeof (r.obj as { reason?: unknown }).reason === 'string'), 'logged at debug with the reason');
});

t.test('TCP frames a message split across chunks and several messages in one chunk (RFC 3261 §18.3)', async (t) => {
  const { transport, messages } = await startTransport(t);
  const c = await tcpClient(t, '127.0.0.1', transport.port);
  const tcpVia = (b: string) => `SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bK${b}`;
  const first = Buffer.from(subscribe({ callId: 'one', via: tcpVia('1'), body: 'hello body' }));
  for (let i = 0; i < first.length; i += 7) {
    c.socket.write(first.subarray(i, i + 7));
    await tick();
  }
  c.socket.write(subscribe({ callId: 'two', via: tcpVia('2') }) + '\r\n' + subscribe({ callId: 'three', via: tcpVia('3'), body: 'x' }));
  const got = await messages(3);
  t.same(got.map((r) => (r.msg as SipRequest).callId), ['one', 'two', 'three']);
  t.equal(got[0]!.msg.body.toString(), 'hello body');
  t.equal(got[0]!.flow.connectionId, got[2]!.flow.connectionId, 'one connection');
});

t.test('a CRLFCRLF keep-alive on TCP gets a single CRLF back (RFC 5626 §4.4.1)', async (t) => {
  const { transport } = await startTransport(t);
  const c = await tcpClient(t, '127.0.0.1', transport.port);
  c.socket.write('\r\n\r\n');
  t.equal(await c.until((s) => s.length >= 2), '\r\n');
});

t.test('a TCP response goes back on the connection the request came on (RFC 3261 §18.2.2)', async (t) => {
  const { transport, messages } = await startTransport(t);
  const c = await tcpClient(t, '::1', transport.port);
  c.socket.write(subscribe({ via: 'SIP/2.0/TCP [2001:db8::10]:5062;branch=z9hG4bKt' }));
  const [{ msg, flow }] = await messages(1);
  t.equal(flow.protocol, 'tcp');
  await transport.send(createResponse(msg as SipRequest, 200, undefined, { toTag: 'x' }), flow);
  const text = await c.until((s) => s.includes('\r\n\r\n'));
  t.match(text, /^SIP\/2\.0 200 /);
  t.equal(transport.connectionCount, 1, 'no new connection was opened');
});

t.test('an oversized TCP message closes that connection only; another peer is unaffected (RFC 3261 §18.3)', async (t) => {
  const { transport, messages } = await startTransport(t, { maxMessageBytes: 2000 });
  const bad = await tcpClient(t, '127.0.0.1', transport.port);
  const good = await tcpClient(t, '127.0.0.1', transport.port);
  bad.socket.write(subscribe({ via: 'SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bKbig', body: 'x'.repeat(5000) }));
  t.ok(await closesWithin(bad.closed, 5000), 'the offending connection was closed');
  t.match(bad.text, /^SIP\/2\.0 400 /, 'answered 400 first, since its header section was complete');
  good.socket.write(subscribe({ callId: 'fine', via: 'SIP/2.0/TCP 192.0.2.11:5062;branch=z9hG4bKok' }));
  const got = await messages(1);
  t.equal((got[0]!.msg as SipRequest).callId, 'fine');
  t.equal(transport.connectionCount, 1);
});

t.test('an endless header section on TCP is cut off at the size limit (RFC 3261 §18.3)', async (t) => {
  const { transport } = await startTransport(t, { maxMessageBytes: 2000 });
  const bad = await tcpClient(t, '127.0.0.1', transport.port);
  bad.socket.write('SUBSCRIBE sip:1001@example.com SIP/2.0\r\n');
  let written = 0;
  for (; written < 100 && !bad.socket.destroyed && bad.socket.readable; written++) {
    bad.socket.write(`X-Filler-${written}: ${'y'.repeat(100)}\r\n`);
    await tick();
  }
  t.ok(await closesWithin(bad.closed, 5000), 'the connection is closed');
  t.ok(written < 100, `closed before the header section ended (after ${written} of 100 filler lines, ~${written * 115} bytes)`);
});

t.test('a TCP stream without Content-Length is answered 400 and closed (RFC 3261 §18.3)', async (t) => {
  const { transport, received } = await startTransport(t);
  const c = await tcpClient(t, '127.0.0.1', transport.port);
  c.socket.write(subscribe({ via: 'SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bKncl', contentLength: null }));
  await c.closed;
  t.match(c.text, /^SIP\/2\.0 400 /);
  t.equal(received.length, 0);
});

t.test('an idle TCP connection is closed after the configured idle time on the injected clock', async (t) => {
  const { transport, clock, messages } = await startTransport(t, { tcpIdleMs: 10_000 });
  const c = await tcpClient(t, '127.0.0.1', transport.port);
  c.socket.write(subscribe({ via: 'SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bKidle' }));
  await messages(1);
  clock.advance(6_000);
  c.socket.write('\r\n\r\n');
  await c.until((s) => s.length >= 2);
  clock.advance(9_999);
  await tick();
  t.equal(transport.connectionCount, 1, 'traffic at 6 s restarted the idle time');
  clock.advance(1);
  await c.closed;
  t.equal(transport.connectionCount, 0);
});

t.test('a request to a peer that connected inbound reuses its connection (RFC 3261 §18.1.1, RFC 5923 §3)', async (t) => {
  const { transport, messages } = await startTransport(t);
  const c = await tcpClient(t, '127.0.0.1', transport.port);
  c.socket.write(subscribe({ via: 'SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bKin' }));
  const [{ flow }] = await messages(1);
  const sent = await transport.sendTo(Buffer.from(subscribe({ method: 'NOTIFY', callId: 'n1' })), {
    protocol: 'tcp',
    host: '127.0.0.1',
    port: c.socket.localPort!,
  });
  t.equal(sent.connectionId, flow.connectionId);
  t.match(await c.until((s) => s.includes('n1')), /^NOTIFY /);
  t.equal(transport.connectionCount, 1);
});

t.test('sendTo opens a new TCP connection when none exists, then reuses it (RFC 3261 §18.1.1)', async (t) => {
  const { transport } = await startTransport(t);
  const accepted: Socket[] = [];
  let data = '';
  const peer = createServer((s) => {
    accepted.push(s);
    s.on('data', (d) => (data += d.toString()));
  });
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of accepted) s.destroy();
    peer.close();
  });
  const port = (peer.address() as { port: number }).port;
  const f1 = await transport.sendTo(Buffer.from(subscribe({ method: 'NOTIFY', callId: 'first' })), { protocol: 'tcp', host: '127.0.0.1', port });
  const f2 = await transport.sendTo(Buffer.from(subscribe({ method: 'NOTIFY', callId: 'second' })), { protocol: 'tcp', host: '127.0.0.1', port });
  t.ok(f1.connectionId !== undefined);
  t.equal(f2.connectionId, f1.connectionId, 'the second request reused the connection');
  for (let i = 0; i < 100 && !data.includes('second'); i++) await tick();
  t.equal(accepted.length, 1);
  t.ok(data.includes('first') && data.includes('second'));
});

t.test('sendTo a TCP target that refuses is reported as connect-failed', async (t) => {
  const { transport } = await startTransport(t);
  const peer = createServer();
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  const port = (peer.address() as { port: number }).port;
  await new Promise<void>((resolve) => peer.close(() => resolve()));
  await t.rejects(transport.sendTo(Buffer.from('x'), { protocol: 'tcp', host: '127.0.0.1', port }), { code: 'connect-failed' });
});

t.test('send on a TCP flow whose connection is gone rejects with flow-closed (RFC 3261 §18.2.2)', async (t) => {
  const { transport, messages } = await startTransport(t);
  const c = await tcpClient(t, '127.0.0.1', transport.port);
  c.socket.write(subscribe({ via: 'SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bKgone' }));
  const [{ flow }] = await messages(1);
  const gone = new Promise<Flow>((resolve) => transport.onFlowClosed(resolve));
  c.socket.destroy();
  t.equal((await gone).connectionId, flow.connectionId, 'the flow-closed handler is told');
  await t.rejects(transport.send(Buffer.from('x'), flow), { code: 'flow-closed' });
});

t.test('connections beyond the limit are refused; existing peers are unaffected', async (t) => {
  const { transport, messages } = await startTransport(t, { maxConnections: 1 });
  const first = await tcpClient(t, '127.0.0.1', transport.port);
  first.socket.write(subscribe({ callId: 'first', via: 'SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bK1' }));
  await messages(1);
  const second = await tcpClient(t, '127.0.0.1', transport.port);
  await second.closed;
  t.equal(transport.stats.connectionsRejected, 1);
  first.socket.write(subscribe({ callId: 'again', via: 'SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bK2' }));
  const got = await messages(2);
  t.equal((got[1]!.msg as SipRequest).callId, 'again');
});

t.test('a peer that does not read is dropped once its send buffer passes the limit; the server goes on', async (t) => {
  const { transport, messages } = await startTransport(t, { maxBufferedBytes: 256 * 1024 });
  const slow = await tcpClient(t, '127.0.0.1', transport.port);
  slow.socket.write(subscribe({ via: 'SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bKslow' }));
  const [{ flow }] = await messages(1);
  slow.socket.pause(); // reads nothing more: the kernel buffers fill, then ours
  const dropped = new Promise<Flow>((resolve) => transport.onFlowClosed(resolve));
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  const outcomes: Promise<string>[] = [];
  for (let i = 0; i < 2000 && transport.connectionCount > 0; i++) {
    outcomes.push(transport.send(chunk, flow).then(() => 'sent', (e: { code: string }) => e.code));
    if (i % 50 === 49) await tick();
  }
  const codes = await Promise.all(outcomes);
  t.ok(codes.includes('limit'), 'a send was refused at the limit');
  t.equal((await dropped).connectionId, flow.connectionId);
  t.equal(transport.connectionCount, 0, 'that connection was dropped');
  const other = await tcpClient(t, '127.0.0.1', transport.port);
  other.socket.write(subscribe({ callId: 'still', via: 'SIP/2.0/TCP 192.0.2.11:5062;branch=z9hG4bKfine' }));
  const got = await messages(2);
  t.equal((got[1]!.msg as SipRequest).callId, 'still', 'other peers are served');
});

t.test('a fan-out burst to one reading TCP peer (a proxy carrying many watchers) is not mistaken for a peer that does not read', async (t) => {
  const { transport, messages } = await startTransport(t, { maxBufferedBytes: 128 * 1024 });
  const proxy = await tcpClient(t, '127.0.0.1', transport.port);
  proxy.socket.write(subscribe({ via: 'SIP/2.0/TCP 192.0.2.20:5062;branch=z9hG4bKproxy' }));
  const [{ flow }] = await messages(1);
  // 400 messages of 1 KB in one run of code: 400 KB, three times the limit, written while the peer keeps reading.
  const chunk = Buffer.alloc(1024, 0x42);
  const outcomes = Array.from({ length: 400 }, () => transport.send(chunk, flow).then(() => 'sent', (e: { code: string }) => e.code));
  const codes = await Promise.all(outcomes);
  t.equal(codes.filter((c) => c === 'sent').length, 400, 'every write was taken');
  t.equal(transport.connectionCount, 1, 'the connection stays open');
  await proxy.until((text) => text.length >= 400 * 1024);
  t.equal(proxy.text.length, 400 * 1024, 'and every byte arrived');
});

t.test('a message larger than a datagram is refused for UDP (RFC 3261 §18.1.1)', async (t) => {
  const { transport } = await startTransport(t, { maxDatagramBytes: 1000 });
  await t.rejects(transport.sendTo(Buffer.alloc(1001, 0x41), { protocol: 'udp', host: '127.0.0.1', port: 9 }), { code: 'too-large' });
});

t.test('close() stops listening and closes connections', async (t) => {
  const clock = new ManualClock();
  const transport = new SipTransport({ hosts: ['127.0.0.1'], port: 0, clock, logger: silentLogger });
  await transport.start();
  const c = await tcpClient(t, '127.0.0.1', transport.port);
  await transport.close();
  await c.closed;
  const again = connect({ host: '127.0.0.1', port: transport.port });
  const [err] = (await once(again, 'error')) as [NodeJS.ErrnoException];
  t.equal(err.code, 'ECONNREFUSED');
});

t.test('send reports every failure as a rejection, never a synchronous throw (RFC 3261 §18.1.1, §18.2.2)', async (t) => {
  const { transport } = await startTransport(t, { maxDatagramBytes: 1000 });
  const udpFlow: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: transport.port, remoteAddress: '127.0.0.1', remotePort: 9 };
  let big: Promise<void> | undefined;
  t.doesNotThrow(() => {
    big = transport.send(Buffer.alloc(1001, 0x41), udpFlow);
  });
  await t.rejects(big!, { code: 'too-large' });
  const tcpFlow: Flow = { ...udpFlow, protocol: 'tcp', connectionId: 987654 };
  await t.rejects(transport.send(Buffer.from('x'), tcpFlow), { code: 'flow-closed' });
  await transport.close();
  let closed: Promise<void> | undefined;
  t.doesNotThrow(() => {
    closed = transport.send(Buffer.from('x'), udpFlow);
  });
  await t.rejects(closed!, { code: 'closed' });
});
