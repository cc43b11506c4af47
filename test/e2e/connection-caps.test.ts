import type { ConnectionOptions } from 'node:tls';
import t from 'tap';
import { TlsSipPeer, WsSipPeer } from '../support/secure-peers.js';
import { optionsText, splitStream } from '../support/secure-requests.js';
import { startServerForFile } from '../support/server-process.js';
import { statusCodes } from '../support/sip-client.js';
import { makeTestPki } from '../support/tls-certs.js';

/**
 * The connection caps over TLS and WebSocket on the built server (security.md §4.2, §6 C1 and C3; issue 20 item 3):
 * beyond PISTON_SIP_MAX_CONNECTIONS_PER_IP from one untrusted address a connection is refused, a trusted address is
 * not held to it, another address still gets in, and beyond PISTON_SIP_MAX_CONNECTIONS every address is refused.
 * Small caps stand in for the 100 and 10,000 of the defaults (the 10,000-connection run is the bench's idle-conns).
 * TCP and TLS share one count (one SipTransport), WebSocket has its own.
 */

const pki = makeTestPki();
t.teardown(() => pki.cleanup());
const PER_IP = 3;
const TOTAL = 6;
const TRUSTED = '127.0.0.5';
const server = await startServerForFile(t, {
  env: {
    PISTON_SIP_HOST: '127.0.0.1',
    PISTON_SIP_TLS_CERT: pki.server.certPath,
    PISTON_SIP_TLS_KEY: pki.server.keyPath,
    PISTON_SIP_MAX_CONNECTIONS_PER_IP: String(PER_IP),
    PISTON_SIP_MAX_CONNECTIONS: String(TOTAL),
    PISTON_SIP_TRUSTED_PEERS: `${TRUSTED}/32`,
    PISTON_WARM_UP_ROUNDS: '0',
  },
});

type Outcome = { ok: true; close(): void } | { ok: false };

/** A TLS connection from `from` that answers an OPTIONS with 200, or was refused (closed, reset, no answer). */
async function tlsFrom(from: string): Promise<Outcome> {
  const options: ConnectionOptions & { localAddress: string } = { localAddress: from };
  let peer: TlsSipPeer;
  try {
    peer = await TlsSipPeer.open(server.tlsPort!, options);
  } catch {
    return { ok: false };
  }
  await peer.write(optionsText('TLS', `${from}:5061`));
  const text = await peer.waitUntil((x) => splitStream(x).some((m) => m.startsWith('SIP/2.0 ')), 3000);
  if (statusCodes(text)[0] === 200) return { ok: true, close: () => peer.close() };
  peer.close();
  return { ok: false };
}

/** The same over WebSocket: refused at accept, the upgrade fails. */
async function wsFrom(from: string): Promise<Outcome> {
  let peer: WsSipPeer;
  try {
    peer = await WsSipPeer.open(`ws://127.0.0.1:${server.wsPort}`, { localAddress: from });
  } catch {
    return { ok: false };
  }
  await peer.send(optionsText('WS', 'caps.invalid'));
  const got = await peer.waitUntil((m) => m.some((x) => x.startsWith('SIP/2.0 ')), 3000);
  if (statusCodes(got.join(''))[0] === 200) return { ok: true, close: () => peer.close() };
  peer.close();
  return { ok: false };
}

const open: (() => void)[] = [];
const closeAll = async (): Promise<void> => {
  for (const c of open.splice(0)) c();
  // The server sees the closes a moment later; its counts must be back to zero before the next case.
  await new Promise((r) => setTimeout(r, 300));
};
t.teardown(closeAll);

async function openN(n: number, connect: (from: string) => Promise<Outcome>, from: string): Promise<boolean[]> {
  const results: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const o = await connect(from);
    results.push(o.ok);
    if (o.ok) open.push(o.close);
  }
  return results;
}

for (const [name, connect] of [['TLS', tlsFrom], ['WS', wsFrom]] as const) {
  t.test(`${name}: a trusted address is not held to the per-address cap (security.md §4.2, C3)`, async (t) => {
    t.same(await openN(PER_IP + 2, connect, TRUSTED), Array(PER_IP + 2).fill(true), `${PER_IP + 2} connections from the trusted peer, all served`);
    await closeAll();
  });

  t.test(`${name}: beyond the per-address cap an untrusted address is refused; another address still gets in (C3)`, async (t) => {
    t.same(await openN(PER_IP + 1, connect, '127.0.0.2'), [...Array(PER_IP).fill(true), false], `${PER_IP} served, the next refused`);
    t.same(await openN(1, connect, '127.0.0.3'), [true], 'a phone at another address is served');
    await closeAll();
    t.same(await openN(1, connect, '127.0.0.2'), [true], 'once its connections are closed, the address gets in again');
    await closeAll();
  });

  t.test(`${name}: beyond the total cap every address is refused, trusted or not; the cap frees as connections close (C1)`, async (t) => {
    t.same(await openN(TOTAL, connect, TRUSTED), Array(TOTAL).fill(true), `${TOTAL} served`);
    t.same(await openN(1, connect, '127.0.0.4'), [false], 'an untrusted address under its own cap: refused at the total');
    t.same(await openN(1, connect, TRUSTED), [false], 'the trusted address too');
    open.pop()!();
    await new Promise((r) => setTimeout(r, 300));
    t.same(await openN(1, connect, '127.0.0.4'), [true], 'one closed: one more served');
    await closeAll();
  });
}

t.test('the refusals are counted per transport in the metrics (issue 20 item 3)', async (t) => {
  const res = await fetch(`http://127.0.0.1:${server.apiPort}/metrics`);
  const text = await res.text();
  const refused = text.split('\n').filter((l) => /refused/.test(l) && !l.startsWith('#'));
  // Three refused per transport above: one over the per-address cap, two over the total.
  t.ok(refused.some((l) => /transport="tls"\} 3$/.test(l)), `TLS refusals counted: ${refused.join(' | ')}`);
  t.ok(refused.some((l) => /transport="ws"\} 3$/.test(l)), 'WS refusals counted');
});
