/**
 * The admin list against a full SIP side (issue 18, item 4): 100,000 live subscriptions in process, then
 * `GET /v2/accounts/{id}/presence` through the real Koa app over HTTP on loopback, while the event loop's largest
 * delay is measured. The SIP side shares that loop: whatever holds the loop during a list holds every SUBSCRIBE,
 * PUBLISH and NOTIFY answer as long.
 *
 *   npm run bench:list        (node dist/bench/admin-list.js after a build)
 *
 * The stack is createPresenceStack's without a network, as the start-up rehearsal uses it (src/main-rehearsal.ts): the
 * real parser, UA core, notifier and presentity over a memory store and a manual clock (no timers of their own), with
 * a phone that answers every NOTIFY 200, so each subscription holds a sent NOTIFY whose body the list shows. Watchers: BENCH_SUBS (100,000)
 * subscriptions to BENCH_RESOURCES (10,000) extensions, dialog (80%), presence and message-summary; every tenth
 * extension is in a call (a PUBLISH), so its watchers' bodies carry a confirmed dialog.
 *
 * Per list: duration (request to last byte), bytes, the event loop's largest delay (perf_hooks
 * monitorEventLoopDelay, resolution 10 ms) and the largest lateness of a 1 ms interval timer, RSS before and at its
 * peak (sampled every 10 ms), and the GC pauses meanwhile. First, the largest delay over 2 s with nothing listed: on
 * a loaded machine the loop waits for the CPU now and then whatever it runs. The HTTP client runs in this process
 * too: it counts bytes and, in a paged walk, searches each page's text for its entries and next_start_key (no
 * JSON.parse), so its share of the loop is small.
 *
 *   BENCH_SUBS=200000 BENCH_CONCURRENT=4 npm run bench:list    four lists at once
 *   BENCH_PAGE_SIZE=1000 npm run bench:list                    walk every page (page_size, start_key → next_start_key)
 *   BENCH_RUNS=3 (default)                                      lists one after another; each printed
 *
 * No GC is forced between runs: each list that followed a forced full collection (global.gc()) met a stall of 50-100 ms
 * at its start (there, copying the 100,000 live records' references took 15-70 ms instead of 3, or a GC paused 78 ms),
 * which lists without one before them never met.
 */
import http from 'node:http';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { AccountResolver } from '../src/accounts/account-resolver.js';
import { createAccountServices } from '../src/accounts/account-services.js';
import { bootstrap } from '../src/accounts/bootstrap.js';
import { createApiApp } from '../src/api/create-api-app.js';
import { startApi } from '../src/api/start-api.js';
import { ManualClock } from '../src/lib/clock.js';
import { silentLogger } from '../src/lib/logger.js';
import type { SipRequest, SipResponse } from '../src/sip/message/message.js';
import { createResponse } from '../src/sip/message/response-factory.js';
import { serialize } from '../src/sip/message/serialize.js';
import { parseMessage } from '../src/sip/parser/parse-message.js';
import type { ClientResult, Destination } from '../src/sip/transaction/non-invite-client-transaction.js';
import type { Flow } from '../src/sip/transport/flow.js';
import { stampVia } from '../src/sip/transport/via-stamp.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { createPresenceStack } from '../src/stack/index.js';
import { sleep } from './load/sleep.js';

const SUBS = Number(process.env.BENCH_SUBS ?? 100_000);
const RESOURCES = Number(process.env.BENCH_RESOURCES ?? 10_000);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 1);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PAGE_SIZE = process.env.BENCH_PAGE_SIZE === undefined ? undefined : Number(process.env.BENCH_PAGE_SIZE);

const DOMAIN = 'bench.example.com';
const API_KEY = 'b'.repeat(64);
const PHONE = { address: '127.0.0.2', port: 5062 };
const PHONE_FLOW: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: PHONE.address, remotePort: PHONE.port };

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The SIP side as createPresenceStack builds it, without a network: requests enter through `receive` after the real
 * parser, and the phone answers every NOTIFY 200 at once.
 */
function sipSide(store: MemoryStore, clock: ManualClock, accounts: AccountResolver) {
  const stack = createPresenceStack({
    store,
    clock,
    accounts,
    nodeName: 'piston@bench',
    channel: {
      request: (req: SipRequest, _d: Destination): Promise<ClientResult> => {
        const response = parseMessage(serialize(createResponse(req, 200)), { datagram: true }) as SipResponse;
        return Promise.resolve({ kind: 'response', response, flow: PHONE_FLOW });
      },
    },
  });
  let status = 0;
  const sink = { respond: (res: SipResponse) => void (status = res.status) };
  const deliver = (text: string): number => {
    status = 0;
    const req = parseMessage(Buffer.from(text), { datagram: true }) as SipRequest;
    stampVia(req, PHONE.address, PHONE.port);
    stack.receive(req, PHONE_FLOW, sink);
    return status;
  };
  return { stack, notifier: stack.notifier, presentity: stack.presentity, deliver };
}

function head(method: string, i: number, ext: number, from: string, event: string): string[] {
  return [
    `${method} sip:${ext}@${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/UDP ${PHONE.address}:${PHONE.port};branch=z9hG4bKbl${method[0]}${i};rport`,
    'Max-Forwards: 70',
    `From: <sip:${from}@${DOMAIN}>;tag=bt${i}`,
    `To: <sip:${ext}@${DOMAIN}>`,
    `Call-ID: bench-${method[0]}${i}@${PHONE.address}`,
    `CSeq: 1 ${method}`,
    `Event: ${event}`,
    'Expires: 3600',
  ];
}

function subscribeText(i: number): string {
  const ext = 1000 + (i % RESOURCES);
  const event = i % 10 < 8 ? 'dialog' : i % 10 === 8 ? 'presence' : 'message-summary';
  const lines = head('SUBSCRIBE', i, ext, `w${i}`, event);
  lines.push(`Contact: <sip:w${i}@${PHONE.address}:${PHONE.port}>`);
  return lines.concat('Content-Length: 0', '', '').join('\r\n');
}

function publishText(i: number, ext: number): string {
  const entity = `sip:${ext}@${DOMAIN}`;
  const body =
    '<?xml version="1.0"?>\r\n' +
    `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="${entity}">\r\n` +
    `<dialog id="d${i}" call-id="c${i}" local-tag="l${i}" remote-tag="r${i}" direction="recipient">` +
    `<state>confirmed</state><local><identity>${entity}</identity></local>` +
    `<remote><identity>sip:caller${i}@${DOMAIN}</identity></remote></dialog>\r\n</dialog-info>\r\n`;
  const lines = head('PUBLISH', i, ext, `${ext}`, 'dialog');
  lines.push('Content-Type: application/dialog-info+xml', `Content-Length: ${Buffer.byteLength(body)}`, '', body);
  return lines.join('\r\n');
}

interface Got {
  status: number;
  bytes: number;
  /** The body, only when asked to keep it (paged answers). */
  text: string | undefined;
}

function get(port: number, path: string, token: string, keep: boolean): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { 'X-Auth-Token': token }, agent: false }, (res) => {
      let bytes = 0;
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (keep) parts.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, text: keep ? Buffer.concat(parts).toString('utf8') : undefined }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function post(port: number, path: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'PUT', agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One whole listing: a single GET, or every page when BENCH_PAGE_SIZE is set. */
async function listAll(port: number, accountId: string, token: string): Promise<{ bytes: number; pages: number; listed: number }> {
  const base = `/v2/accounts/${accountId}/presence`;
  if (PAGE_SIZE === undefined) {
    const got = await get(port, base, token, false);
    if (got.status !== 200) throw new Error(`list answered ${got.status}`);
    return { bytes: got.bytes, pages: 1, listed: SUBS };
  }
  let bytes = 0;
  let pages = 0;
  let listed = 0;
  let start: string | undefined;
  for (;;) {
    const query = `?page_size=${PAGE_SIZE}${start === undefined ? '' : `&start_key=${encodeURIComponent(start)}`}`;
    const got = await get(port, base + query, token, true);
    if (got.status !== 200) throw new Error(`page answered ${got.status}: ${got.text?.slice(0, 300)}`);
    bytes += got.bytes;
    pages++;
    // Read without JSON.parse, which would hold this shared loop for the client: each entry has one `"stalker":`
    // (inside a body its quotes are escaped), and next_start_key sits in the envelope's tail.
    const text = got.text!;
    for (let at = text.indexOf('"stalker":'); at !== -1; at = text.indexOf('"stalker":', at + 1)) listed++;
    const next = /,"next_start_key":"([A-Za-z0-9_-]+)"/.exec(text.slice(text.lastIndexOf(',"next_start_key":')));
    if (!text.includes(',"next_start_key":') || !next) return { bytes, pages, listed };
    start = next[1]!;
  }
}

/** GC pauses (their durations in ms), to tell a collection from the list's own work in a long loop delay. */
const gcPauses: { ms: number; major: boolean }[] = [];
new PerformanceObserver((entries) => {
  for (const e of entries.getEntries()) {
    gcPauses.push({ ms: e.duration, major: (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR });
  }
}).observe({ entryTypes: ['gc'] });

const gcSummary = (): string => {
  const longest = (major: boolean): string => Math.max(0, ...gcPauses.filter((g) => g.major === major).map((g) => g.ms)).toFixed(1);
  const majors = gcPauses.filter((g) => g.major).length;
  return `GC: ${gcPauses.length - majors} minor (longest ${longest(false)} ms), ${majors} major (longest ${longest(true)} ms)`;
};

const mb = (n: number): string => `${(n / 1048576).toFixed(0)} MB`;

const clock = new ManualClock(Date.now());
const store = new MemoryStore();
const boot = bootstrap(store, { clock, realm: DOMAIN, apiKey: API_KEY });
const services = createAccountServices({ store, clock, defaultAccountForUnknownDomains: true, scryptCost: 1024 });
const sip = sipSide(store, clock, services.resolver);

const fillStarted = performance.now();
for (let ext = 1000; ext < 1000 + RESOURCES; ext += 10) {
  if (sip.deliver(publishText(ext, ext)) !== 200) throw new Error(`PUBLISH for ${ext} refused`);
}
for (let i = 0; i < SUBS; i++) {
  const status = sip.deliver(subscribeText(i));
  if (status !== 200) throw new Error(`SUBSCRIBE ${i} answered ${status}`);
  if (i % 500 === 499) await turn();
}
for (let i = 0; i < 50; i++) await turn();
if (sip.notifier.count() !== SUBS) throw new Error(`${sip.notifier.count()} subscriptions live, expected ${SUBS}`);

const app = createApiApp({
  services,
  presentity: sip.presentity,
  notifier: sip.notifier,
  clock,
  logger: silentLogger,
  health: { sip: () => true, store: () => true },
});
const api = await startApi(app, { host: '127.0.0.1', port: 0 });
const auth = JSON.parse(await post(api.port, '/v2/api_auth', JSON.stringify({ data: { api_key: API_KEY } }))) as { auth_token: string };
process.stdout.write(
  `${SUBS} subscriptions to ${RESOURCES} extensions filled in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s; ` +
    `RSS ${mb(process.memoryUsage.rss())}; ${CONCURRENT} list(s) at once${PAGE_SIZE === undefined ? '' : `, page_size ${PAGE_SIZE}`}\n`,
);

/**
 * The loop's largest delay while `during` runs, by both measures: monitorEventLoopDelay (resolution 10 ms) and the
 * lateness of a 1 ms interval timer (how late each firing is beyond its period is how long the loop was held); and
 * RSS at its peak, sampled every 10 ms.
 */
async function loopDelay<T>(during: () => Promise<T>): Promise<{ result: T; histogramMs: number; timerMs: number; rssPeak: number }> {
  let rssPeak = process.memoryUsage.rss();
  let lateness = 0;
  let last = performance.now();
  let ticks = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    lateness = Math.max(lateness, now - last - 1);
    last = now;
    if (++ticks % 10 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, 1);
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const result = await during();
  histogram.disable();
  clearInterval(probe);
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  return { result, histogramMs: histogram.max / 1e6, timerMs: lateness, rssPeak };
}

const delays = (d: { histogramMs: number; timerMs: number }): string =>
  `max loop delay ${d.timerMs.toFixed(1)} ms (1 ms timer), ${d.histogramMs.toFixed(1)} ms (monitorEventLoopDelay)`;

const idle = await loopDelay(() => sleep(2000));
process.stdout.write(`idle: ${delays(idle)} over 2 s with nothing listed\n`);
for (let run = 1; run <= RUNS; run++) {
  const rssBefore = process.memoryUsage.rss();
  gcPauses.length = 0;
  const started = performance.now();
  const d = await loopDelay(() => Promise.all(Array.from({ length: CONCURRENT }, () => listAll(api.port, boot.accountId, auth.auth_token))));
  const ms = performance.now() - started;
  const r = d.result[0]!;
  process.stdout.write(
    `run ${run}: ${ms.toFixed(0)} ms, ${(r.bytes / 1e6).toFixed(1)} MB${CONCURRENT > 1 ? ' each' : ''}` +
      `${PAGE_SIZE === undefined ? '' : ` in ${r.pages} pages (${r.listed} listed)`}; ${delays(d)}; ` +
      `RSS ${mb(rssBefore)} → peak ${mb(d.rssPeak)}; ${gcSummary()}\n`,
  );
  for (let i = 0; i < 20; i++) await turn();
}

await api.close();
sip.stack.dispose();
store.close();
