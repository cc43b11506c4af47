/**
 * What open live streams cost the SIP path (issue 23 acceptance: with 100,000 subscriptions and 1,000 PUBLISH/s, ten
 * open streams cost no more than 5% more CPU per NOTIFY). Same-run A/B inside ONE server process: one stack
 * (createPresenceStack, NOTIFYs answered 200 by an in-process channel, no sockets on the SIP side), the history
 * observer on (as in the server), the admin API on a loopback port with the operator routes. The streams are read by
 * a child process (bench/stream-reader.ts), whose CPU is not counted.
 *
 * Many short phases, ABBA-ordered (A B B A A B B A ...): A = no stream, B = `--streams` open streams. Each B phase's
 * streams are opened before it and closed after it; the opening (the hub's index, every stream's snapshot) is timed
 * and reported apart, outside the measured window. Before every phase: a full GC when run with --expose-gc (as
 * `npm run bench:stream` does), then `--settle-ms` of quiet. A phase's figure is this process's CPU (user + system,
 * all its threads) over the phase divided by the NOTIFYs sent in it. Adjacent phases make a pair (AB or BA, as many
 * of each), and the verdict comes from the per-pair ratios B/A: their median and its sign-test interval (95%), with a
 * bootstrap interval beside it as a check; met when the interval's upper bound <= `--target`, missed when its lower
 * bound > `--target`, otherwise no verdict.
 *
 * Checked in every B phase, and a run with a failed check gives no verdict: every stream stays open through the phase
 * (none cut as a slow reader: a cut stream costs nothing and would make B cheaper), every stream has read, before the
 * streams close, every byte its server socket wrote, and every stream has had as many lamp entries as the phase had
 * PUBLISHes answered 2xx (each PUBLISH changes one resource; a resource is published at most once per phase when
 * rate x phase <= resources). Printed: each pair on stderr, one JSON line on stdout.
 *
 *   node --expose-gc dist/bench/stream-cost.js [--subs 100000] [--watchers 10] [--rate 1000] [--phase-s 3]
 *     [--pairs 24] [--streams 10] [--settle-ms 300] [--target 1.05] [--busy-lamps 100]
 *   short check: --subs 20000 --phase-s 2 --pairs 12
 *   null run (B = A, no stream opened): --streams 0; its interval must hold 1, or the bench itself favours a side
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { createAccountServices } from '../src/accounts/account-services.js';
import { bootstrap } from '../src/accounts/bootstrap.js';
import type { PresenceControl } from '../src/api/api-deps.js';
import { closeStreams, createApiApp, streamHubOf } from '../src/api/create-api-app.js';
import { operatorDeps } from '../src/api/operator-deps.js';
import { DEFAULT_STREAM_LIMITS } from '../src/api/stream-limits.js';
import { PresenceHistory } from '../src/history/presence-history.js';
import { SystemClock } from '../src/lib/clock.js';
import { silentLogger } from '../src/lib/logger.js';
import type { SipResponse } from '../src/sip/message/message.js';
import { createResponse } from '../src/sip/message/response-factory.js';
import type { Flow } from '../src/sip/transport/flow.js';
import { createPresenceStack } from '../src/stack/presence-stack.js';
import { MemoryHistoryRepository } from '../src/store/memory/memory-history.js';
import { MemoryStore } from '../src/store/memory/index.js';
import { parseRequest, publishText, subscribeText } from '../test/support/sip-builders.js';
import { bootstrapMedianInterval, median, signTestInterval, VERDICT_RULE, verdictOf } from './paired-ratio.js';
import type { ReaderCommand, ReaderReply, ReaderStats } from './stream-reader.js';

const { values } = parseArgs({
  options: {
    subs: { type: 'string', default: '100000' },
    watchers: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1000' },
    'phase-s': { type: 'string', default: '3' },
    pairs: { type: 'string', default: '24' },
    streams: { type: 'string', default: '10' },
    'settle-ms': { type: 'string', default: '300' },
    target: { type: 'string', default: '1.05' },
    'busy-lamps': { type: 'string', default: String(DEFAULT_STREAM_LIMITS.busyLamps) },
  },
});
const SUBS = Number(values.subs);
const WATCHERS = Number(values.watchers);
const RATE = Number(values.rate);
const PHASE_MS = Number(values['phase-s']) * 1000;
// ABBA blocks hold two pairs each (AB, BA): an odd count is rounded up so both orders weigh the same.
const PAIRS = Math.max(2, Math.ceil(Number(values.pairs) / 2) * 2);
const STREAMS = Number(values.streams);
const SETTLE_MS = Number(values['settle-ms']);
const TARGET = Number(values.target);
/** The stream's busy threshold (src/api/stream-limits.ts): a number above `--rate` x 0.5 s keeps every event 150 ms apart. */
const BUSY_LAMPS = Number(values['busy-lamps']);
const RESOURCES = Math.max(1, Math.floor(SUBS / WATCHERS));
const DOMAIN = 'bench.example';
const KEY = 'f'.repeat(64);
const gc = (globalThis as { gc?: () => void }).gc;

const clock = new SystemClock();
const sleep = (ms: number): Promise<void> => new Promise<void>((r) => clock.setTimer(ms, r));
const store = new MemoryStore();
const boot = bootstrap(store, { clock, realm: DOMAIN, apiKey: KEY });
const services = createAccountServices({ store, clock, defaultAccountForUnknownDomains: true, scryptCost: 1024 });
let notified = 0;
const stack = createPresenceStack({
  store,
  clock,
  accounts: services.resolver,
  channel: {
    request: (req) => {
      notified++;
      return Promise.resolve({ kind: 'response', response: createResponse(req, 200), flow: FLOW });
    },
  },
});
const FLOW: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.1', remotePort: 5062 };
const sink = { respond: () => {} };
/** Each resource's current entity-tag: PUBLISHes modify one publication per resource (RFC 3903 §4.4). */
const etags = new Map<number, string>();
let answered2xx = 0;
let answeredAll = 0;
const statuses = new Map<number, number>();
const publishSink = (r: number) => ({
  respond: (res: SipResponse) => {
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status >= 200) answeredAll++;
    if (res.status >= 200 && res.status < 300) answered2xx++;
    const tag = res.headers.get('sip-etag');
    if (tag) etags.set(r, tag);
  },
});
const history = new PresenceHistory({ feed: stack.feed, clock, logger: silentLogger, repository: new MemoryHistoryRepository(), stateOf: (r, e) => stack.presentity.state(r, e) });
history.start();
const app = createApiApp({
  services,
  presentity: stack.presentity as unknown as PresenceControl,
  notifier: stack.notifier,
  clock,
  logger: silentLogger,
  health: { sip: () => true, store: () => true },
  operator: operatorDeps(stack.presentity, stack.feed, history, { busyLamps: BUSY_LAMPS }),
});
const hub = streamHubOf(app);

// The API's own request handler on a server of ours (start-api.ts does the same plus timeouts), so each stream's
// server-side socket can be seen: what it wrote, what waits unsent, whether it closed.
interface ServedStream {
  socket: Socket;
  res: http.ServerResponse;
  closed: boolean;
}
const served = new Map<number, ServedStream>();
const server = http.createServer(app.callback());
server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
  if (!req.url?.includes('/presence/stream')) return;
  const s: ServedStream = { socket: req.socket, res, closed: false };
  served.set(req.socket.remotePort ?? 0, s);
  res.on('close', () => (s.closed = true));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;
const base = `http://127.0.0.1:${port}`;
const token = ((await (await fetch(`${base}/v2/api_auth`, { method: 'PUT', body: JSON.stringify({ data: { api_key: KEY } }) })).json()) as { auth_token: string }).auth_token;
const streamUrl = `${base}/v2/accounts/${boot.accountId}/presence/stream`;

const reader = fork(new URL('./stream-reader.js', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
function ask(cmd: ReaderCommand, expect: ReaderReply['op'], timeoutMs: number): Promise<ReaderStats[]> {
  return new Promise((resolve, reject) => {
    const timer = clock.setTimer(timeoutMs, () => {
      reader.off('message', on);
      reject(new Error(`stream reader: no '${expect}' within ${timeoutMs} ms`));
    });
    const on = (m: ReaderReply): void => {
      if (m.op !== expect) return;
      timer.cancel();
      reader.off('message', on);
      resolve(m.readers);
    };
    reader.on('message', on);
    reader.send(cmd);
  });
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const ext = (i: number): string => String(100000 + i);

// Subscriptions, in slices so the NOTIFYs settle.
process.stderr.write(`subscribing ${RESOURCES * WATCHERS} (${RESOURCES} resources x ${WATCHERS})...\n`);
for (let r = 0; r < RESOURCES; r++) {
  for (let w = 0; w < WATCHERS; w++) {
    const req = parseRequest(
      subscribeText({ target: `${ext(r)}@${DOMAIN}`, from: `sip:w${w}@${DOMAIN}`, callId: `c${r}-${w}`, fromTag: `t${r}-${w}`, expires: 3600, contact: `sip:w${w}@127.0.0.1:5062` }),
    );
    stack.receive(req, FLOW, sink);
  }
  if (r % 200 === 199) await turn();
}
await turn();
process.stderr.write(`live: ${stack.notifier.count()}\n`);
if (RATE * (PHASE_MS / 1000) > RESOURCES) {
  process.stderr.write(`note: rate x phase > resources: some resources change twice in a phase, so lamp entries may be fewer than PUBLISHes\n`);
}

let seq = 0;
/** Quiet after a phase's last PUBLISH in which B's last lamp event is sent (the stream's longest gathering, plus a margin). */
const LAST_FLUSH_MS = Math.max(DEFAULT_STREAM_LIMITS.coalesceMs, DEFAULT_STREAM_LIMITS.busyCoalesceMs) + 20;
interface PhaseResult {
  cpuUs: number;
  /** The system (kernel) part of cpuUs: the sockets' writes land here. */
  sysUs: number;
  notifies: number;
  publishes2xx: number;
  /** PUBLISHes sent and answered in the phase (a server behind its load answers fewer than `--rate` per second). */
  offered: number;
  answered: number;
  /** The phase's length, its drain included. */
  ms: number;
}
/** RATE x `ms` PUBLISHes at RATE, a batch every 5 ms, then until all is answered and sent; CPU and NOTIFYs of it all. */
async function phase(ms: number): Promise<PhaseResult> {
  const total = Math.round((ms * RATE) / 1000);
  // The load's own work (writing the PUBLISH texts) is done before the window when each resource is published at most
  // once in the phase (its entity-tag is then known now); parsing them stays inside, as it is the server's.
  const first = seq;
  const textOf = (i: number): { r: number; text: string } => {
    const r = i % RESOURCES;
    // A new call per cycle (terminated is final for a dialog id, RFC 4235 §3.7.1): ringing, then idle.
    const cycle = Math.floor(i / RESOURCES);
    const state = (cycle & 1) === 0 ? 'early' : 'terminated';
    const body = `<?xml version="1.0"?><dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${i}" state="full" entity="sip:${ext(r)}@${DOMAIN}"><dialog id="d${r}-${cycle >> 1}"><state>${state}</state></dialog></dialog-info>`;
    const etag = etags.get(r);
    return { r, text: publishText({ target: `${ext(r)}@${DOMAIN}`, event: 'dialog', contentType: 'application/dialog-info+xml', body, expires: 3600, ...(etag ? { ifMatch: etag } : {}) }) };
  };
  const ready = total <= RESOURCES ? Array.from({ length: total }, (_, k) => textOf(first + k)) : null;
  const n0 = notified;
  const p0 = answered2xx;
  const a0 = answeredAll;
  const c0 = process.cpuUsage();
  const start = Date.now();
  let sent = 0;
  while (sent < total) {
    // As many as the rate owes by now: late timers do not lower the rate, and a phase always offers `total`.
    const owed = Math.min(total, Math.floor(((Date.now() - start) * RATE) / 1000));
    for (; sent < owed; sent++) {
      const { r, text } = ready ? ready[sent]! : textOf(first + sent);
      stack.receive(parseRequest(text), FLOW, publishSink(r));
    }
    if (sent < total) await sleep(5);
  }
  seq = first + total;
  // Everything the phase's PUBLISHes cause falls inside it: their answers, their fan-out (a server behind its load
  // finishes it here instead of in the next phase) and, in B, the last lamp flush (the same quiet in A).
  const deadline = Date.now() + 30_000;
  await sleep(LAST_FLUSH_MS);
  for (let before = -1; (answeredAll - a0 < sent || notified !== before) && Date.now() < deadline; ) {
    before = notified;
    await sleep(10);
  }
  for (let i = 0; i < 5; i++) await turn();
  const c = process.cpuUsage(c0);
  return { cpuUs: c.user + c.system, sysUs: c.system, notifies: notified - n0, publishes2xx: answered2xx - p0, offered: sent, answered: answeredAll - a0, ms: Date.now() - start };
}

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

interface Opened {
  baseline: ReaderStats[];
  cpuMs: number;
  wallMs: number;
  snapshotBytes: number;
  snapshotExtensions: number;
  problems: string[];
}
/** Opens the streams and waits for every snapshot: the cost of opening, measured on its own. */
async function openStreams(): Promise<Opened> {
  served.clear();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const baseline = await ask({ op: 'open', url: streamUrl, token, n: STREAMS }, 'opened', 120_000);
  const c = process.cpuUsage(c0);
  const wallMs = performance.now() - t0;
  const problems: string[] = [];
  for (const r of baseline) {
    if (r.status !== 200 || r.ended || r.error) problems.push(`open: stream on port ${r.port} status ${r.status}${r.error ? ` (${r.error})` : ''}`);
    else if (!served.has(r.port)) problems.push(`open: stream on port ${r.port} not seen by the server`);
  }
  if (hub.open !== STREAMS) problems.push(`open: the hub has ${hub.open} streams, not ${STREAMS}`);
  return {
    baseline,
    cpuMs: (c.user + c.system) / 1000,
    wallMs,
    snapshotBytes: baseline[0]?.snapshotBytes ?? 0,
    snapshotExtensions: baseline[0]?.snapshotExtensions ?? 0,
    problems,
  };
}

interface StreamCheck {
  /** Largest number of bytes a stream had waiting unsent on the server when the phase ended. */
  maxBacklogBytes: number;
  /** How long after the phase the readers took to have read every byte written. */
  drainMs: number;
  lampEvents: [number, number];
  lampExtensions: [number, number];
  bytesRead: [number, number];
  closeCpuMs: number;
  problems: string[];
}
/** After a B phase: nothing cut, everything written was read and parsed, then the streams closed. */
async function checkAndClose(opened: Opened, pub2xx: number): Promise<StreamCheck> {
  const problems: string[] = [];
  const open = [...served.values()];
  const maxBacklogBytes = Math.max(0, ...open.map((s) => s.res.writableLength));
  if (hub.open !== STREAMS) problems.push(`the hub had ${hub.open} streams at the phase's end, not ${STREAMS}`);
  const cut = open.filter((s) => s.closed).length;
  if (cut > 0) problems.push(`${cut} streams closed during the phase`);
  const t0 = performance.now();
  let last: ReaderStats[] = [];
  // Every byte the server's socket took (sent or still queued) must reach the reader: bytesWritten counts both.
  let drained = false;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(20)) {
    last = await ask({ op: 'stats' }, 'stats', 10_000);
    drained = last.every((r) => {
      const s = served.get(r.port);
      return s !== undefined && r.bytesRaw >= s.socket.bytesWritten;
    });
    if (drained) break;
  }
  const drainMs = performance.now() - t0;
  if (!drained) problems.push('the readers did not read every byte written within 15 s');
  const c0 = process.cpuUsage();
  await ask({ op: 'close' }, 'closed', 10_000);
  if (!(await until(() => hub.open === 0, 10_000))) problems.push(`the hub still had ${hub.open} streams 10 s after the readers closed`);
  const c = process.cpuUsage(c0);
  const before = new Map(opened.baseline.map((r) => [r.port, r]));
  const lampEvents: number[] = [];
  const lampExtensions: number[] = [];
  const bytesRead: number[] = [];
  for (const r of last) {
    const b = before.get(r.port);
    if (!b) continue;
    if (r.ended || r.error) problems.push(`stream on port ${r.port} ended during the phase${r.error ? ` (${r.error})` : ''}`);
    if (r.idGaps > 0) problems.push(`stream on port ${r.port}: ${r.idGaps} gaps in event ids`);
    lampEvents.push((r.events.lamp ?? 0) - (b.events.lamp ?? 0));
    lampExtensions.push(r.lampExtensions - b.lampExtensions);
    bytesRead.push(r.bytesRaw - b.bytesRaw);
  }
  const span = (xs: number[]): [number, number] => (xs.length === 0 ? [0, 0] : [Math.min(...xs), Math.max(...xs)]);
  const ext = span(lampExtensions);
  if (STREAMS === 0) {
    // The null run (B = A): nothing to check.
  } else if (lampExtensions.length !== STREAMS) problems.push(`${lampExtensions.length} of ${STREAMS} streams reported`);
  else if (RATE * (PHASE_MS / 1000) <= RESOURCES && (ext[0] !== pub2xx || ext[1] !== pub2xx)) {
    problems.push(`lamp entries per stream ${ext[0]}-${ext[1]}, PUBLISHes answered 2xx ${pub2xx}`);
  }
  return { maxBacklogBytes, drainMs, lampEvents: span(lampEvents), lampExtensions: ext, bytesRead: span(bytesRead), closeCpuMs: (c.user + c.system) / 1000, problems };
}

interface Measured extends PhaseResult {
  kind: 'A' | 'B';
  usPerNotify: number;
  opened?: Opened;
  check?: StreamCheck;
}
async function runPhase(kind: 'A' | 'B'): Promise<Measured> {
  const opened = kind === 'B' ? await openStreams() : undefined;
  gc?.();
  await sleep(SETTLE_MS);
  const r = await phase(PHASE_MS);
  const check = opened ? await checkAndClose(opened, r.publishes2xx) : undefined;
  return { kind, ...r, usPerNotify: r.cpuUs / Math.max(1, r.notifies), ...(opened ? { opened } : {}), ...(check ? { check } : {}) };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const loadavg = async (): Promise<string> => (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const loadStart = await loadavg();
// Warm-up: one phase of each, not counted (the stream path's code gets compiled too).
await runPhase('A');
const warmB = await runPhase('B');
process.stderr.write(`warm-up done (B: snapshot ${warmB.opened?.snapshotExtensions} extensions, ${warmB.opened?.snapshotBytes} bytes per stream)\n`);

const pairs: { order: 'AB' | 'BA'; a: Measured; b: Measured; ratio: number }[] = [];
const problems: string[] = [...(warmB.opened?.problems ?? []), ...(warmB.check?.problems ?? [])];
for (let p = 0; p < PAIRS; p++) {
  // A B | B A | A B | B A ...: the ABBA blocks.
  const order: 'AB' | 'BA' = p % 2 === 0 ? 'AB' : 'BA';
  const first = await runPhase(order[0] as 'A' | 'B');
  const second = await runPhase(order[1] as 'A' | 'B');
  const a = first.kind === 'A' ? first : second;
  const b = first.kind === 'B' ? first : second;
  const ratio = b.usPerNotify / a.usPerNotify;
  pairs.push({ order, a, b, ratio });
  const bad = [...(b.opened?.problems ?? []), ...(b.check?.problems ?? [])];
  problems.push(...bad.map((x) => `pair ${p + 1}: ${x}`));
  const ch = b.check!;
  process.stderr.write(
    `pair ${p + 1} ${order}: A ${a.notifies} NOTIFYs ${a.usPerNotify.toFixed(1)} µs (${a.answered}/${a.offered} PUBLISH in ${a.ms} ms); ` +
      `B ${b.notifies} NOTIFYs ${b.usPerNotify.toFixed(1)} µs (${b.answered}/${b.offered} in ${b.ms} ms); ratio ${ratio.toFixed(3)}; ` +
      `streams: ${ch.lampEvents[0]}-${ch.lampEvents[1]} lamp events, ${ch.lampExtensions[0]}-${ch.lampExtensions[1]} entries (PUBLISH 2xx ${b.publishes2xx}), ` +
      `${(ch.bytesRead[0] / 1e6).toFixed(2)}-${(ch.bytesRead[1] / 1e6).toFixed(2)} MB read each, backlog at end ${ch.maxBacklogBytes} B, drained in ${ch.drainMs.toFixed(0)} ms; ` +
      `open ${b.opened!.cpuMs.toFixed(0)} ms CPU${bad.length ? `; PROBLEMS: ${bad.join('; ')}` : ''}\n`,
  );
}
const loadEnd = await loadavg();

const ratios = pairs.map((p) => p.ratio);
const sign = signTestInterval(ratios, 0.95);
const bootIv = bootstrapMedianInterval(ratios, 0.95);
// A null run has no target: its interval must hold 1, or the procedure itself favours one side.
const verdict =
  problems.length > 0
    ? 'invalid'
    : STREAMS === 0
      ? sign === null
        ? 'null run: too few pairs'
        : sign.low <= 1 && 1 <= sign.high
          ? 'null run: the interval holds 1'
          : 'null run: the interval misses 1 (the procedure favours a side)'
      : verdictOf(sign, TARGET);
const as = pairs.map((p) => p.a.usPerNotify);
const bs = pairs.map((p) => p.b.usPerNotify);
const opens = pairs.map((p) => p.b.opened!);
const result = {
  subscriptions: stack.notifier.count(),
  resources: RESOURCES,
  publishPerS: RATE,
  streams: STREAMS,
  busyLamps: BUSY_LAMPS,
  phaseS: PHASE_MS / 1000,
  pairs: PAIRS,
  order: 'ABBA',
  nullRun: STREAMS === 0,
  gcBetweenPhases: gc !== undefined,
  loadavg: { start: loadStart, end: loadEnd },
  aUsPerNotify: as.map(round1),
  bUsPerNotify: bs.map(round1),
  ratios: ratios.map(round3),
  medianA: round1(median(as)),
  medianB: round1(median(bs)),
  medianRatio: round3(median(ratios)),
  ratioOfMedians: round3(median(bs) / median(as)),
  // Where a difference lies: user (JS, GC) or system (kernel: socket writes) CPU per NOTIFY, medians of each kind.
  sysUsPerNotify: { a: round1(median(pairs.map((p) => p.a.sysUs / p.a.notifies))), b: round1(median(pairs.map((p) => p.b.sysUs / p.b.notifies))) },
  signTest95: sign ? { low: round3(sign.low), high: round3(sign.high), coverage: round3(sign.coverage) } : null,
  bootstrap95: bootIv ? { low: round3(bootIv.low), high: round3(bootIv.high) } : null,
  bGreaterInPairs: ratios.filter((r) => r > 1).length,
  target: TARGET,
  verdict,
  verdictRule: `sign-test 95% interval of the median per-pair ratio: ${VERDICT_RULE} (target ${TARGET}); invalid when a stream check failed`,
  snapshot: {
    cpuMsMedian: round1(median(opens.map((o) => o.cpuMs))),
    wallMsMedian: round1(median(opens.map((o) => o.wallMs))),
    bytesPerStream: opens[0]?.snapshotBytes ?? 0,
    extensions: opens[0]?.snapshotExtensions ?? 0,
  },
  closeCpuMsMedian: round1(median(pairs.map((p) => p.b.check!.closeCpuMs))),
  maxBacklogBytes: Math.max(...pairs.map((p) => p.b.check!.maxBacklogBytes)),
  // A phase that ran past its length plus the closing quiet by more than a quarter second was a server behind its
  // load (the machine too busy, or the rate too high for it): its figure is still per NOTIFY, but say so.
  phasesBehind: pairs.flatMap((p) => [p.a, p.b]).filter((m) => m.ms > PHASE_MS + LAST_FLUSH_MS + 250).length,
  unanswered: pairs.reduce((n, p) => n + p.a.offered - p.a.answered + p.b.offered - p.b.answered, 0),
  problems,
  publishAnswers: Object.fromEntries(statuses),
};
process.stderr.write(
  `median per-pair ratio B/A ${result.medianRatio} (B > A in ${result.bGreaterInPairs} of ${PAIRS} pairs); 95% interval: sign test ` +
    `${sign ? `${result.signTest95!.low}-${result.signTest95!.high}` : 'none (too few pairs)'}, bootstrap ${bootIv ? `${result.bootstrap95!.low}-${result.bootstrap95!.high}` : 'none'}; ` +
    `verdict against ${TARGET}: ${verdict} (${result.verdictRule}); load average ${loadStart} -> ${loadEnd}\n`,
);
if (result.phasesBehind > PAIRS / 2) {
  process.stderr.write(
    `warning: ${result.phasesBehind} of ${2 * PAIRS} phases ran late: the server was starved and took its PUBLISHes in bursts; take the figure on a quiet machine\n`,
  );
}
process.stdout.write(`${JSON.stringify(result)}\n`);

reader.disconnect();
history.stop();
closeStreams(app);
await new Promise<void>((r) => server.close(() => r()));
stack.dispose();
