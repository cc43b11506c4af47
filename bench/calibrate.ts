/**
 * How fast is this machine right now? Three fixed workloads, each timed in CPU µs per operation of this process
 * (issue 21: the same commit's ratios moved between two machines of the same kind). Run it beside a benchmark, or
 * alone: `npm run bench:calibrate` (`node dist/bench/calibrate.js [--rounds N]`), and compare runs made on other
 * machines or at other times: a figure that moves with the machine, not with the code, says where the time went.
 *   - js:    parse a SIP SUBSCRIBE with our parser (pure JavaScript, small objects);
 *   - gc:    allocate (ns per object) and drop 1 KiB objects (the young generation's scavenger: memory bandwidth and caches);
 *   - udp:   send a 600-byte datagram over loopback to a socket of this process (the kernel's UDP path: the
 *            sendmsg and, on loopback, the receiver's softirq, charged to the sender as in the server's NOTIFYs);
 *   - wake:  the same, one datagram a millisecond, to a socket of another process that sleeps in between: the
 *            sender also pays for waking it (on a VM, an interrupt to the other virtual CPU), as our server does for
 *            each answer and NOTIFY to a SIPp or a phone that waits for it.
 * Prints one JSON line with the median of the rounds of each; CPU time is what `process.cpuUsage()` reports.
 */
import { createSocket } from 'node:dgram';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { parseMessage } from '../src/sip/parser/parse-message.js';
import { literalFirstLookup } from '../src/sip/transport/address.js';
import { subscribeText } from '../test/support/sip-builders.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg('--rounds', 7);

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

function jsRound(n: number, bytes: Buffer): number {
  const t0 = cpuUs();
  let sink = 0;
  for (let i = 0; i < n; i++) sink += parseMessage(bytes).headers.size;
  const us = (cpuUs() - t0) / n;
  if (sink < 0) throw new Error('unreachable');
  return us;
}

function gcRound(n: number): number {
  const t0 = cpuUs();
  let keep: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    keep.push(new Uint8Array(1024));
    if (keep.length === 64) keep = [];
  }
  return (cpuUs() - t0) / n;
}

async function udpRound(n: number): Promise<{ usPerSend: number; received: number }> {
  const rx = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  // The server's own lookup: dgram's default answers even an IP literal a tick later, so the send would leave the window.
  const tx = createSocket({ type: 'udp4', lookup: literalFirstLookup });
  rx.bind(0, '127.0.0.1');
  await once(rx, 'listening');
  // Bound before the first send: an unbound socket queues its sends until an implicit bind completes.
  // (Listened for before bind: with a lookup that answers at once, 'listening' fires inside bind.)
  const listening = once(tx, 'listening');
  tx.bind(0, '127.0.0.1');
  await listening;
  let received = 0;
  rx.on('message', () => void received++);
  const port = rx.address().port;
  const payload = Buffer.alloc(600, 0x41);
  // Bounded bursts of 64 with a turn in between, so the receive buffer never overflows and drops.
  let sendUs = 0;
  for (let sent = 0; sent < n; ) {
    const s0 = cpuUs();
    for (let k = 0; k < 64 && sent < n; k++, sent++) tx.send(payload, port, '127.0.0.1');
    sendUs += cpuUs() - s0;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const deadline = Date.now() + 2000;
  while (received < n && Date.now() < deadline) await new Promise<void>((resolve) => setImmediate(resolve));
  tx.close();
  rx.close();
  return { usPerSend: sendUs / n, received };
}

/** A receiver in another process (it sleeps in epoll between datagrams); returns the port and a stop function. */
async function sleepingPeer(): Promise<{ port: number; stop: () => void }> {
  const code = "const s=require('dgram').createSocket('udp4');s.on('message',()=>{});s.bind(0,'127.0.0.1',()=>process.stdout.write(s.address().port+'\\n'))";
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { port: Number(line.toString().trim()), stop: () => void child.kill('SIGTERM') };
}

async function wakeRound(n: number, port: number): Promise<number> {
  const tx = createSocket({ type: 'udp4', lookup: literalFirstLookup });
  const listening = once(tx, 'listening');
  tx.bind(0, '127.0.0.1');
  await listening;
  const payload = Buffer.alloc(600, 0x41);
  let us = 0;
  for (let i = 0; i < n; i++) {
    const t0 = cpuUs();
    tx.send(payload, port, '127.0.0.1');
    us += cpuUs() - t0;
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
  tx.close();
  return us / n;
}

async function main(): Promise<void> {
  const bytes = Buffer.from(subscribeText({ target: 'sip:1001@example.com' }));
  // Warm-up: let the JIT optimise each workload before it is timed.
  jsRound(20_000, bytes);
  gcRound(100_000);
  await udpRound(5_000);
  const js: number[] = [];
  const gc: number[] = [];
  const udp: number[] = [];
  const wake: number[] = [];
  let lost = 0;
  const peer = await sleepingPeer();
  for (let r = 0; r < ROUNDS; r++) {
    wake.push(await wakeRound(500, peer.port));
    js.push(jsRound(20_000, bytes));
    gc.push(gcRound(200_000));
    const u = await udpRound(20_000);
    udp.push(u.usPerSend);
    lost += 20_000 - u.received;
  }
  peer.stop();
  const out = {
    when: new Date().toISOString(),
    node: process.version,
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    rounds: ROUNDS,
    jsParseUs: round2(median(js)),
    gcAllocNs: Math.round(median(gc) * 1000),
    udpSendUs: round2(median(udp)),
    udpLost: lost,
    udpWakeUs: round2(median(wake)),
    spread: { jsParseUs: [round2(Math.min(...js)), round2(Math.max(...js))], udpSendUs: [round2(Math.min(...udp)), round2(Math.max(...udp))], udpWakeUs: [round2(Math.min(...wake)), round2(Math.max(...wake))] },
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

void main();
