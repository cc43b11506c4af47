import t from 'tap';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { createConnectionGate } from '../../../src/security/limits/connection-gate.js';
import { ByteBudget, type ConnectionLimitReason, type ConnectionLimits } from '../../../src/sip/transport/admission.js';
import { SipTransport } from '../../../src/sip/transport/sip-transport.js';

/** The part of tap's Test the helpers use. */
interface HasTeardown {
  teardown(fn: () => unknown): void;
}

const message = (callId: string): string =>
  [
    'OPTIONS sip:127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/TCP 127.0.0.1:5062;branch=z9hG4bK${callId}`,
    'Max-Forwards: 70',
    'From: <sip:2001@example.com>;tag=f1',
    'To: <sip:127.0.0.1>',
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

async function start(t: HasTeardown, limits: Omit<ConnectionLimits, 'onLimit'>) {
  const clock = new ManualClock();
  const hits: ConnectionLimitReason[] = [];
  const transport = new SipTransport({
    hosts: ['127.0.0.1'],
    port: 0,
    udp: false,
    clock,
    logger: silentLogger,
    connectionLimits: { ...limits, onLimit: (reason) => hits.push(reason) },
  });
  await transport.start();
  let received = 0;
  transport.onMessage(() => received++);
  t.teardown(() => transport.close());
  return { clock, transport, hits, received: () => received };
}

/** A client connection from `from` (any 127.0.0.0/8 address works on Linux loopback); resolves once open or refused. */
async function client(t: HasTeardown, port: number, from = '127.0.0.1') {
  const socket: Socket = connect({ host: '127.0.0.1', port, localAddress: from });
  t.teardown(() => socket.destroy());
  socket.on('error', () => {});
  const closed = once(socket, 'close').then(() => true);
  await once(socket, 'connect');
  return { socket, closed, isClosed: () => socket.destroyed || socket.readyState === 'closed' };
}

/** Waits, a turn at a time and at most 2 s, until `ok()`. */
async function until(ok: () => boolean): Promise<boolean> {
  for (let i = 0; i < 400 && !ok(); i++) await new Promise((res) => setTimeout(res, 5));
  return ok();
}

t.test('the 101st connection from one untrusted address is refused at accept; another address and a trusted one are not (security.md §4.2, C3)', async (t) => {
  const trusted = (s: { address: string }) => (s.address === '127.0.0.4' ? [{ id: 'pbx', accountId: 'a1' }] : []);
  const { transport, hits } = await start(t, { admit: createConnectionGate(100, trusted) });
  const from2 = [];
  for (let i = 0; i < 100; i++) from2.push(await client(t, transport.port, '127.0.0.2'));
  t.ok(await until(() => transport.connectionCount === 100), '100 accepted from 127.0.0.2');
  const over = await client(t, transport.port, '127.0.0.2');
  t.equal(await over.closed, true, 'the 101st is closed by the server');
  t.same(hits, ['per-address']);
  t.equal(transport.stats.connectionsRejected, 1);
  const other = await client(t, transport.port, '127.0.0.3');
  other.socket.write(message('other'));
  for (let i = 0; i < 3; i++) await client(t, transport.port, '127.0.0.4');
  t.ok(await until(() => transport.connectionCount === 104), 'another address and the trusted one are accepted');
  from2[0]!.socket.destroy();
  t.ok(await until(() => transport.connectionCount === 103), 'a connection closes');
  await client(t, transport.port, '127.0.0.2');
  t.ok(await until(() => transport.connectionCount === 104), 'a place freed is taken again');
  t.equal(hits.length, 1);
});

t.test('a connection that sends nothing within 10 s of accept is closed (security.md §4.2, C2)', async (t) => {
  const { clock, transport, hits } = await start(t, { firstBytesMs: 10_000 });
  const silent = await client(t, transport.port);
  const talking = await client(t, transport.port);
  t.ok(await until(() => transport.connectionCount === 2));
  talking.socket.write('\r\n\r\n'); // a keep-alive ping counts as bytes (RFC 5626 §4.4.1)
  await once(talking.socket, 'data');
  clock.advance(9_999);
  t.equal(transport.connectionCount, 2, 'open until the deadline');
  clock.advance(1);
  t.equal(await silent.closed, true, 'the silent one is closed at 10 s');
  t.same(hits, ['first-bytes']);
  t.equal(transport.connectionCount, 1, 'the one that spoke stays');
  t.notOk(talking.isClosed());
});

t.test('a message begun must be complete within 20 s, however slowly its bytes trickle (security.md §4.2, C2: one byte every 5 s)', async (t) => {
  const budget = new ByteBudget(1 << 20);
  const { clock, transport, hits, received } = await start(t, { firstBytesMs: 10_000, messageMs: 20_000, budget });
  const slow = await client(t, transport.port);
  const text = message('slow');
  let sent = 0;
  for (let step = 0; step < 4; step++) {
    slow.socket.write(text.slice(sent, sent + 1));
    sent++;
    t.ok(await until(() => budget.used === sent), `byte ${sent} held`);
    clock.advance(5_000);
  }
  t.equal(await slow.closed, true, 'closed 20 s after the message began');
  t.same(hits, ['message-deadline']);
  t.equal(received(), 0);
  t.ok(await until(() => budget.used === 0), 'its bytes are released from the budget');
});

t.test('the deadline restarts with each completed message: a peer whose chunks end mid-message keeps its connection', async (t) => {
  const { clock, transport, hits, received } = await start(t, { messageMs: 20_000 });
  const busy = await client(t, transport.port);
  let rest = '';
  for (let i = 0; i < 6; i++) {
    const next = message(`m${i}`);
    const half = next.length >> 1;
    busy.socket.write(rest + next.slice(0, half));
    rest = next.slice(half);
    t.ok(await until(() => received() === i), `message ${i} handed up`);
    clock.advance(15_000); // every chunk completes the previous message and begins the next
  }
  t.same(hits, [], 'never closed: 90 s in all, no message took 20 s');
  t.notOk(busy.isClosed());
  t.equal(transport.connectionCount, 1);
});

t.test('the framers share one byte budget: the connection whose bytes pass it is closed, others keep theirs (security.md §4.2)', async (t) => {
  const budget = new ByteBudget(4096);
  const { transport, hits } = await start(t, { budget });
  const a = await client(t, transport.port);
  const b = await client(t, transport.port);
  const head = message('big').replace('Content-Length: 0', 'Content-Length: 60000');
  a.socket.write(head + 'x'.repeat(1000));
  t.ok(await until(() => budget.used > 1000), 'a holds its partial message');
  const heldByA = budget.used;
  b.socket.write(head + 'y'.repeat(4000));
  t.equal(await b.closed, true, 'b, which passed the budget, is closed');
  t.same(hits, ['byte-budget']);
  t.equal(budget.used, heldByA, 'a keeps its bytes');
  t.notOk(a.isClosed());
});
