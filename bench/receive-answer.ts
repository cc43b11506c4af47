/**
 * Receive-and-answer micro-benchmark (issue 5): the per-subscription SIP work of the load test without sockets.
 *
 *   subscribe: a SIPp SUBSCRIBE datagram is parsed, its top Via stamped with received/rport (as the transport does),
 *              its server transaction key computed, the user-agent core checks it, a handler reads the headers the
 *              notifier and dialog code read, answers 200 with To tag, Contact and Expires (as notifier.respondOk), and
 *              the response is serialized.
 *   send:      the stack's transports (TransportSet, then SipTransport.send) send those bytes on a UDP flow, to a
 *              stand-in socket that completes at once.
 *   notify-200: SIPp's 200 to our NOTIFY is parsed and its client transaction key computed.
 *
 * The UA core and the sockets are the stack's (createPresenceStack, as main.ts builds it), with the notifier's SUBSCRIBE
 * handler replaced by the stand-in above, so that only the SIP layers' own work is measured, as in earlier rounds.
 *
 * Run: `npx tsc -p tsconfig.json && node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 dist/bench/receive-answer.js`
 * ns/msg is CPU time (user + system) per message, the best of 8 rounds of 250 ms after warm-up. B/msg is V8 heap growth per message over batches run
 * between forced full GCs (the large young generation keeps scavenges out of a batch; batches where the heap shrank
 * are discarded); Buffer bytes taken from the pool are not in it. Figures only; nothing is asserted.
 */
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/lib/logger.js';
import { SystemClock } from '../src/lib/clock.js';
import type { SipRequest, SipResponse } from '../src/sip/message/message.js';
import { serialize } from '../src/sip/message/serialize.js';
import { parseMessage } from '../src/sip/parser/parse-message.js';
import { responseTransactionKey, serverTransactionKey } from '../src/sip/transaction/transaction-key.js';
import type { Flow } from '../src/sip/transport/flow.js';
import { UDP } from '../src/sip/transport/transport-descriptor.js';
import { stampVia } from '../src/sip/transport/via-stamp.js';
import type { ResponseSink } from '../src/sip/ua/user-agent-core.js';
import { createPresenceStack, socketListeners } from '../src/stack/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('run with node --expose-gc (see the comment at the top of bench/receive-answer.ts)\n');
  process.exit(2);
}

// What SIPp's bench/scenarios/subscribe.xml sends (see fixtures/real-clients/sipp-subscribe.txt).
const SUBSCRIBE = Buffer.from(
  [
    'SUBSCRIBE sip:1002@127.0.0.1:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5074;branch=z9hG4bK-21273-1-0',
    'Max-Forwards: 70',
    'From: <sip:wp1@127.0.0.1>;tag=21273b1',
    'To: <sip:1002@127.0.0.1>',
    'Call-ID: 1-21273@127.0.0.1',
    'CSeq: 1 SUBSCRIBE',
    'Contact: <sip:wp1@127.0.0.1:5074;transport=UDP>',
    'Event: dialog',
    'Accept: application/dialog-info+xml',
    'Expires: 3600',
    'User-Agent: piston-bench',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

// SIPp's answer to our NOTIFY: [last_Via:] ... copied from the NOTIFY.
const NOTIFY_200 = Buffer.from(
  [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK7f1e2d3c4b5a6978;rport=5060;received=127.0.0.1',
    'From: <sip:1002@127.0.0.1>;tag=b645z8wpam',
    'To: <sip:wp1@127.0.0.1>;tag=21273b1',
    'Call-ID: 1-21273@127.0.0.1',
    'CSeq: 1 NOTIFY',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

const FLOW: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.1', remotePort: 5074 };

let sink = 0;
let lastBytes: Buffer = Buffer.alloc(0);

const clock = new SystemClock();
const stack = createPresenceStack({
  clock,
  logger: silentLogger,
  transports: socketListeners({ hosts: ['127.0.0.1'], port: 5060, clock, logger: silentLogger }),
});
const ua = stack.ua;
ua.register('SUBSCRIBE', (incoming) => {
  const req = incoming.request;
  // What notifier and create-uas-dialog read.
  const ev = req.event;
  sink += (ev?.package.length ?? 0) + (req.expires ?? 0) + req.accept.length + req.contact.length;
  sink += req.from.params.size + req.to.params.size + req.callId.length + req.cseq.seq + (req.maxForwards ?? 0);
  sink += req.recordRoute.length + req.requestUri.host.length + req.topVia.host.length;
  incoming.respond(200, {
    toTag: 'b645z8wpam',
    headers: [
      ['Contact', '<sip:1002@127.0.0.1:5060>'],
      ['Expires', String(3600)],
    ],
  });
});
const responseSink: ResponseSink = {
  respond(res: SipResponse) {
    lastBytes = serialize(res);
  },
};

function subscribeOnce(): void {
  const req = parseMessage(SUBSCRIBE) as SipRequest;
  stampVia(req, FLOW.remoteAddress, FLOW.remotePort);
  sink += serverTransactionKey(req).length;
  ua.receive(req, FLOW, responseSink);
  sink += lastBytes.length;
}

function notify200Once(): void {
  const res = parseMessage(NOTIFY_200) as SipResponse;
  sink += responseTransactionKey(res)?.length ?? 0;
}

// The stack's UDP listener gets a stand-in socket (it is never started): send() completes at once, so only our own send
// path is measured.
const transport = stack.transports!;
const fakeSocket = {
  send(_buf: Buffer, _port: number, _address: string, cb: (err: Error | null) => void): void {
    cb(null);
  },
};
Object.assign(transport.listener(UDP) as unknown as Record<string, unknown>, {
  udp: [{ socket: fakeSocket, address: '127.0.0.1', family: 4 }],
  boundPort: 5060,
});
subscribeOnce();
const answer = lastBytes;
function sendOnce(): void {
  void transport.send(answer, FLOW);
}

/** CPU time (user + system) per call, the best of `rounds` rounds: other processes on the machine only add noise. */
function timePerMessage(fn: () => void, ms: number, rounds = 1): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let n = 0;
    do {
      for (let i = 0; i < 1000; i++) fn();
      n += 1000;
    } while (performance.now() - t0 < ms);
    const c = process.cpuUsage(c0);
    best = Math.min(best, ((c.user + c.system) * 1000) / n);
  }
  return best;
}

async function bytesPerMessage(fn: () => void): Promise<number> {
  const batch = 200;
  const samples: number[] = [];
  for (let k = 0; k < 40; k++) {
    // Let pending promise reactions (the send path) run before measuring.
    await new Promise<void>((r) => setImmediate(r));
    gc!();
    const h0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < batch; i++) fn();
    const h1 = process.memoryUsage().heapUsed;
    if (h1 > h0) samples.push((h1 - h0) / batch);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const cases: [string, () => void][] = [
    ['subscribe -> 200 bytes', subscribeOnce],
    ['send 200 (udp, stand-in socket)', sendOnce],
    ['notify 200 -> transaction key', notify200Once],
  ];
  for (const [, fn] of cases) timePerMessage(fn, 400);
  await new Promise<void>((r) => setImmediate(r));
  const rows: string[][] = [];
  let nsTotal = 0;
  let bTotal = 0;
  for (const [name, fn] of cases) {
    const ns = timePerMessage(fn, 250, 8);
    await new Promise<void>((r) => setImmediate(r));
    const b = await bytesPerMessage(fn);
    nsTotal += ns;
    bTotal += b;
    rows.push([name, Math.round(ns).toLocaleString('en-US'), Math.round(b).toLocaleString('en-US')]);
  }
  rows.push(['total per subscription', Math.round(nsTotal).toLocaleString('en-US'), Math.round(bTotal).toLocaleString('en-US')]);
  const header = ['path', 'ns/msg', 'heap B/msg'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ') + ' |';
  process.stdout.write(
    [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n') +
      `\n(answer ${answer.length} B; checksum ${sink % 1000})\n`,
  );
}

await main();
