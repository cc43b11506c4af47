import t, { type Test } from 'tap';
import { SystemClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { ConnectionLimitReason } from '../../../src/sip/transport/admission.js';
import { WS } from '../../../src/sip/transport/transport-descriptor.js';
import { WsTransport } from '../../../src/sip/transport/ws-transport.js';
import { optionsText } from '../../support/secure-requests.js';
import { frame, upgradeRaw } from '../../support/ws-raw.js';

/**
 * The message deadline over WebSocket (security.md §4.2, C2; the TCP rule in connection-limits.test.ts): a message
 * begun, as one frame or a sequence of fragments (RFC 6455 §5.4), must be complete within the deadline, or the
 * connection is closed. `ws` gives no event for a partial message, so these tests also guard the receiver state
 * ws-connection.ts reads.
 */

const DEADLINE_MS = 500;

async function transport(t: Test): Promise<{ url: string; limits: ConnectionLimitReason[]; ws: WsTransport }> {
  const limits: ConnectionLimitReason[] = [];
  const ws = new WsTransport({
    hosts: ['127.0.0.1'],
    ws: { port: 0 },
    clock: new SystemClock(),
    logger: silentLogger,
    pingIntervalMs: 60_000, // the raw peers here do not answer pings (W5 would close them)
    connectionLimits: { messageMs: DEADLINE_MS, firstBytesMs: 10_000, onLimit: (r) => limits.push(r) },
  });
  // Answers nothing: the tests look at the connection only.
  ws.onMessage(() => {});
  await ws.start();
  t.teardown(() => ws.close());
  return { url: `ws://127.0.0.1:${ws.portOf(WS)}`, limits, ws };
}

/** Milliseconds until the server closes `raw`, or undefined if it is still open after `ms`. */
async function closedAfter(raw: Awaited<ReturnType<typeof upgradeRaw>>, t0: number, ms: number): Promise<number | undefined> {
  await raw.read(() => false, ms);
  return raw.socket.destroyed || raw.socket.readableEnded ? Date.now() - t0 : undefined;
}

const message = Buffer.from(optionsText('WS', 'deadline.invalid'));

t.test('a fragmented message whose last fragment never comes is closed at the message deadline (security.md §4.2, RFC 6455 §5.4)', async (t) => {
  const { url, limits } = await transport(t);
  const raw = await upgradeRaw(url);
  t.teardown(() => raw.socket.destroy());
  raw.socket.on('data', () => {}); // reads the server's pings
  const t0 = Date.now();
  raw.socket.write(frame(1, message.subarray(0, 40), { fin: false }));
  const after = await closedAfter(raw, t0, 3000);
  t.ok(after !== undefined, 'closed');
  t.ok(after! >= DEADLINE_MS - 100, `not before the deadline (${after} ms)`);
  t.same(limits, ['message-deadline'], 'counted as the message deadline');
});

t.test('pongs and pings between the fragments do not restart the deadline', async (t) => {
  const { url } = await transport(t);
  const raw = await upgradeRaw(url);
  t.teardown(() => raw.socket.destroy());
  const t0 = Date.now();
  raw.socket.write(frame(1, message.subarray(0, 40), { fin: false }));
  const keepAlive = setInterval(() => {
    if (raw.socket.destroyed) return;
    raw.socket.write(frame(0x0a, Buffer.from('p'))); // unsolicited pong (RFC 6455 §5.5.3)
    raw.socket.write(frame(0x09, Buffer.from('q'))); // ping
  }, 100);
  t.teardown(() => clearInterval(keepAlive));
  const after = await closedAfter(raw, t0, 3000);
  clearInterval(keepAlive);
  t.ok(after !== undefined && after < 2000, `closed at the deadline all the same (${after} ms)`);
});

t.test('half a frame header or half a payload, never finished, is closed at the deadline', async (t) => {
  const { url } = await transport(t);
  for (const [what, bytes] of [
    ['half a header', frame(1, message).subarray(0, 3)],
    ['half a payload', frame(1, message).subarray(0, 60)],
  ] as const) {
    const raw = await upgradeRaw(url);
    t.teardown(() => raw.socket.destroy());
    const t0 = Date.now();
    raw.socket.write(bytes);
    const after = await closedAfter(raw, t0, 3000);
    t.ok(after !== undefined && after >= DEADLINE_MS - 100, `${what}: closed at the deadline (${after} ms)`);
  }
});

t.test('messages that complete in time keep the connection, fragmented or whole, with pings in between', async (t) => {
  const { url, limits, ws } = await transport(t);
  const raw = await upgradeRaw(url);
  t.teardown(() => raw.socket.destroy());
  const pieces = [message.subarray(0, 30), message.subarray(30, 60), message.subarray(60)];
  // Four rounds, each well inside the deadline but together four times it: each message restarts nothing, ends it.
  for (let round = 0; round < 4; round++) {
    raw.socket.write(frame(1, pieces[0]!, { fin: false }));
    await new Promise((r) => setTimeout(r, DEADLINE_MS / 5));
    raw.socket.write(frame(0x0a, Buffer.from('p')));
    raw.socket.write(frame(0, pieces[1]!, { fin: false }));
    await new Promise((r) => setTimeout(r, DEADLINE_MS / 5));
    raw.socket.write(frame(0, pieces[2]!));
    raw.socket.write(frame(1, message));
    await new Promise((r) => setTimeout(r, DEADLINE_MS / 2));
  }
  t.notOk(raw.socket.destroyed || raw.socket.readableEnded, 'still open after four deadlines');
  t.equal(ws.connectionCount, 1);
  t.same(limits, []);
});
