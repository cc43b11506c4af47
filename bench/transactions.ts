/**
 * Transaction-layer micro-benchmark: N non-INVITE server transactions (SUBSCRIBE → 200) and N client transactions
 * (NOTIFY → 200 from the far end) over an in-memory transport with the SystemClock. Prints CPU µs per transaction
 * and the heap each completed transaction retains while it waits in Timer J (server) or Timer K (client).
 * Run with `npm run bench:transactions` (needs `node --expose-gc`, which the script passes). Figures only.
 *
 * Requests and responses are parsed before the clock starts, so parsing is not counted; the server handler's
 * validateRequest + createResponse are counted (the "baseline" row shows what they and serialize cost without a layer).
 */
import { performance } from 'node:perf_hooks';
import { SystemClock } from '../src/lib/clock.js';
import { silentLogger } from '../src/lib/logger.js';
import type { SipMessage, SipRequest, SipResponse } from '../src/sip/message/message.js';
import { createResponse } from '../src/sip/message/response-factory.js';
import { serialize } from '../src/sip/message/serialize.js';
import { parseMessage } from '../src/sip/parser/parse-message.js';
import { validateRequest } from '../src/sip/parser/validate.js';
import type { ClientResult } from '../src/sip/transaction/non-invite-client-transaction.js';
import { TransactionLayer } from '../src/sip/transaction/transaction-layer.js';
import type { Flow, Target } from '../src/sip/transport/flow.js';
import type { MessageHandler, TransportLayer } from '../src/sip/transport/transport.js';

const N = Number(process.env.BENCH_N ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('run with node --expose-gc (npm run bench:transactions does)\n');
  process.exit(1);
}

/** A transport that sends nowhere: each send resolves at once, as a UDP send to the kernel would. */
class NullTransport implements TransportLayer {
  handler: MessageHandler | undefined;
  sends = 0;
  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }
  send(_msg: SipMessage | Buffer, _flow: Flow): Promise<void> {
    this.sends++;
    return Promise.resolve();
  }
  sendTo(_msg: SipMessage | Buffer, target: Target): Promise<Flow> {
    this.sends++;
    return Promise.resolve({ protocol: target.protocol, localAddress: '10.0.0.5', localPort: 5060, remoteAddress: target.host, remotePort: target.port });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  deliver(msg: SipMessage, flow: Flow): void {
    this.handler!(msg, flow);
  }
}

function phoneFlow(i: number): Flow {
  return { protocol: 'udp', localAddress: '10.0.0.5', localPort: 5060, remoteAddress: `192.168.${(i >> 8) & 255}.${i & 255}`, remotePort: 5060 };
}

function subscribe(i: number): SipRequest {
  const text = [
    'SUBSCRIBE sip:1002@pbx.example.com SIP/2.0',
    `Via: SIP/2.0/UDP 192.168.1.34:5060;branch=z9hG4bK-524287-1---${i.toString(16).padStart(8, '0')}4a1e1c8e;rport=5060;received=192.168.1.34`,
    'Max-Forwards: 70',
    'Contact: <sip:1001@192.168.1.34:5060;transport=udp>',
    'To: <sip:1002@pbx.example.com>',
    'From: "Reception 1001" <sip:1001@pbx.example.com>;tag=8f3c2a71',
    `Call-ID: ${i}-5b7d1314-3aee-470a-812b-ae517f946741`,
    'CSeq: 3250 SUBSCRIBE',
    'Expires: 600',
    'Accept: application/dialog-info+xml',
    'User-Agent: Yealink SIP-T46S 66.86.0.15',
    'Event: dialog',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return parseMessage(Buffer.from(text)) as SipRequest;
}

function notify(i: number): SipRequest {
  const body = '<?xml version="1.0"?>\r\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="sip:1002@pbx.example.com"/>\r\n';
  const text = [
    'NOTIFY sip:1001@192.168.1.34:5060;transport=udp SIP/2.0',
    `Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK7f1e2d3c${i.toString(16).padStart(8, '0')};rport`,
    'Max-Forwards: 70',
    'From: <sip:1002@pbx.example.com>;tag=jr2itkua84',
    'To: "Reception 1001" <sip:1001@pbx.example.com>;tag=8f3c2a71',
    `Call-ID: ${i}-5b7d1314-3aee-470a-812b-ae517f946741`,
    'CSeq: 18 NOTIFY',
    'Contact: <sip:presence@10.0.0.5:5060>',
    'Event: dialog',
    'Subscription-State: active;expires=543',
    'Content-Type: application/dialog-info+xml',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
  return parseMessage(Buffer.from(text)) as SipRequest;
}

function okFor(req: SipRequest): SipResponse {
  return parseMessage(serialize(createResponse(req, 200, undefined, {}))) as SipResponse;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function cpuMicros(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return d.user + d.system;
}

interface Figures {
  cpuUs: number;
  wallMs: number;
  heapBytes: number;
  externalBytes: number;
  live: number;
}

function memory(): { heap: number; external: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external };
}

/** N SUBSCRIBEs, each answered 200 by the handler at once; measured while all sit in Timer J. */
async function serverRound(n: number): Promise<Figures> {
  const before = memory();
  let reqs: SipRequest[] | undefined = Array.from({ length: n }, (_, i) => subscribe(i));
  let flows: Flow[] | undefined = Array.from({ length: n }, (_, i) => phoneFlow(i));
  for (const r of reqs) void r.topVia; // the transport's Via stamping parses the top Via before the layer sees it
  const transport = new NullTransport();
  const layer = new TransactionLayer(transport, { clock: new SystemClock(), logger: silentLogger });
  layer.onRequest((req, tx) => {
    validateRequest(req); // as the UA does: the headers get parsed, and a request kept alive keeps them
    void tx.respond(createResponse(req, 200, undefined, { toTag: 'srv' }));
  });
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) transport.deliver(reqs[i]!, flows[i]!);
  await tick();
  const wallMs = performance.now() - t0;
  const cpuUs = cpuMicros(cpu);
  reqs = undefined;
  flows = undefined;
  const after = memory();
  const live = layer.serverTransactionCount;
  layer.close();
  return { cpuUs, wallMs, heapBytes: after.heap - before.heap, externalBytes: after.external - before.external, live };
}

/** N NOTIFYs, each answered 200 by the far end; the caller consumes each result; measured while all sit in Timer K. */
async function clientRound(n: number): Promise<Figures> {
  const before = memory();
  let reqs: SipRequest[] | undefined = Array.from({ length: n }, (_, i) => notify(i));
  let resps: SipResponse[] | undefined = reqs.map(okFor);
  let flows: Flow[] | undefined = Array.from({ length: n }, (_, i) => phoneFlow(i));
  for (const r of resps) void r.topVia;
  const transport = new NullTransport();
  const layer = new TransactionLayer(transport, { clock: new SystemClock(), logger: silentLogger, sentBy: { host: '10.0.0.5', port: 5060 } });
  let ok = 0;
  const consume = (r: ClientResult): void => {
    if (r.kind === 'response') ok++;
  };
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) void layer.request(reqs[i]!, flows[i]!).then(consume);
  for (let i = 0; i < n; i++) transport.deliver(resps[i]!, flows[i]!);
  await tick();
  const wallMs = performance.now() - t0;
  const cpuUs = cpuMicros(cpu);
  if (ok !== n) throw new Error(`only ${ok} of ${n} client transactions got their response`);
  reqs = undefined;
  resps = undefined;
  flows = undefined;
  const after = memory();
  const live = layer.clientTransactionCount;
  layer.close();
  await tick();
  return { cpuUs, wallMs, heapBytes: after.heap - before.heap, externalBytes: after.external - before.external, live };
}

/** What the server handler does without any transaction layer: validateRequest + createResponse + serialize. */
async function baselineRound(n: number): Promise<Figures> {
  const reqs = Array.from({ length: n }, (_, i) => subscribe(i));
  for (const r of reqs) void r.topVia;
  let sink = 0;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    validateRequest(reqs[i]!);
    sink += serialize(createResponse(reqs[i]!, 200, undefined, { toTag: 'srv' })).length;
  }
  const wallMs = performance.now() - t0;
  const cpuUs = cpuMicros(cpu);
  return { cpuUs, wallMs, heapBytes: 0, externalBytes: 0, live: sink > 0 ? 0 : -1 };
}

async function main(): Promise<void> {
  // Warm-up so the JIT has settled on every path.
  await serverRound(5_000);
  await clientRound(5_000);
  await baselineRound(5_000);

  const rows: string[][] = [];
  const fmt = (x: number, d = 0): string => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const kinds: [string, (n: number) => Promise<Figures>, boolean][] = [
    ['server (SUBSCRIBE→200, Timer J)', serverRound, true],
    ['client (NOTIFY→200, Timer K)', clientRound, true],
    ['baseline (validate+createResponse+serialize)', baselineRound, false],
  ];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, fn, mem] of kinds) {
      const f = await fn(N);
      rows.push([
        `${name} #${round}`,
        fmt(f.cpuUs / N, 2),
        fmt(f.wallMs, 0),
        mem ? fmt(f.heapBytes / N) : '-',
        mem ? fmt(f.externalBytes / N) : '-',
        mem ? fmt(f.live) : '-',
      ]);
    }
  }
  const header = ['case', 'CPU µs/tx', 'wall ms', 'heap B/tx', 'external B/tx', 'live tx'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ') + ' |';
  process.stdout.write(
    [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n') +
      `\n(N = ${N} per round; heap/external = memoryUsage() after gc while the completed transactions wait, minus before the messages were made; node ${process.version})\n`,
  );
}

await main();
