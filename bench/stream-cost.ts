/**
 * What open live streams cost the SIP path (issue 23 acceptance: with 100,000 subscriptions and 1,000 PUBLISH/s,
 * ten open streams cost no more than 5% more CPU per NOTIFY). Same-run A/B, in process: one stack
 * (createPresenceStack, NOTIFYs answered 200 by an in-process channel, no sockets on the SIP side), the history
 * observer on (as in the server), the admin API on a loopback port with the operator routes; phases alternate
 * between no stream (A) and `--streams` open streams read by fetch (B). Per phase: process CPU (user + system) per
 * NOTIFY sent; the medians of the phases of each kind and their ratio are printed. Figures only; nothing asserted.
 *
 *   node dist/bench/stream-cost.js [--subs 20000] [--watchers 10] [--rate 1000] [--phase-s 5] [--pairs 3] [--streams 10]
 *   full size: --subs 100000 (10,000 resources of 10 watchers: 10,000 NOTIFY/s at 1,000 PUBLISH/s)
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { createAccountServices } from '../src/accounts/account-services.js';
import { bootstrap } from '../src/accounts/bootstrap.js';
import type { PresenceControl } from '../src/api/api-deps.js';
import { createApiApp, streamHubOf } from '../src/api/create-api-app.js';
import { operatorDeps } from '../src/api/operator-deps.js';
import { startApi } from '../src/api/start-api.js';
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

const { values } = parseArgs({
  options: {
    subs: { type: 'string', default: '20000' },
    watchers: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1000' },
    'phase-s': { type: 'string', default: '5' },
    pairs: { type: 'string', default: '3' },
    streams: { type: 'string', default: '10' },
  },
});
const SUBS = Number(values.subs);
const WATCHERS = Number(values.watchers);
const RATE = Number(values.rate);
const PHASE_MS = Number(values['phase-s']) * 1000;
const PAIRS = Number(values.pairs);
const STREAMS = Number(values.streams);
const RESOURCES = Math.max(1, Math.floor(SUBS / WATCHERS));
const DOMAIN = 'bench.example';
const KEY = 'f'.repeat(64);

const clock = new SystemClock();
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
const statuses = new Map<number, number>();
const publishSink = (r: number) => ({
  respond: (res: SipResponse) => {
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
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
  operator: operatorDeps(stack.presentity, stack.feed, history),
});
const api = await startApi(app, { host: '127.0.0.1', port: 0 });
const hub = streamHubOf(app);
const openCount = (): number => hub.open;
const base = `http://127.0.0.1:${api.port}`;
const token = ((await (await fetch(`${base}/v2/api_auth`, { method: 'PUT', body: JSON.stringify({ data: { api_key: KEY } }) })).json()) as { auth_token: string }).auth_token;

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

let seq = 0;
/** PUBLISHes at RATE for `ms`, a batch every 10 ms; returns CPU µs and NOTIFYs of the phase. */
async function phase(ms: number): Promise<{ cpuUs: number; notifies: number }> {
  const n0 = notified;
  const c0 = process.cpuUsage();
  const end = Date.now() + ms;
  const start = Date.now();
  let sent = 0;
  while (Date.now() < end) {
    // As many as the rate owes by now: late timers do not lower the rate.
    const owed = Math.floor(((Date.now() - start) * RATE) / 1000);
    for (; sent < owed; sent++) {
      const i = seq++;
      const r = i % RESOURCES;
      // A new call per cycle (terminated is final for a dialog id, RFC 4235 §3.7.1): ringing, then idle.
      const cycle = Math.floor(i / RESOURCES);
      const state = (cycle & 1) === 0 ? 'early' : 'terminated';
      const body = `<?xml version="1.0"?><dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${i}" state="full" entity="sip:${ext(r)}@${DOMAIN}"><dialog id="d${r}-${cycle >> 1}"><state>${state}</state></dialog></dialog-info>`;
      const etag = etags.get(r);
      stack.receive(
        parseRequest(publishText({ target: `${ext(r)}@${DOMAIN}`, event: 'dialog', contentType: 'application/dialog-info+xml', body, expires: 3600, ...(etag ? { ifMatch: etag } : {}) })),
        FLOW,
        publishSink(r),
      );
    }
    await new Promise<void>((r) => clock.setTimer(5, r));
  }
  // Let the last fan-out settle inside the phase.
  for (let i = 0; i < 20; i++) await turn();
  const c = process.cpuUsage(c0);
  return { cpuUs: c.user + c.system, notifies: notified - n0 };
}

/**
 * Opens the streams in a child process that reads them (its CPU is the clients', not the server's) until killed; the
 * child prints the bytes it read when told to stop.
 */
async function openStreams(): Promise<{ close(): Promise<number> }> {
  const code = `
    let bytes = 0;
    const url = process.argv[1], token = process.argv[2], n = Number(process.argv[3]);
    for (let i = 0; i < n; i++) {
      fetch(url, { headers: { 'X-Auth-Token': token } }).then(async (res) => {
        for await (const c of res.body) bytes += c.length;
      }).catch(() => {});
    }
    process.on('SIGTERM', () => { process.stdout.write(String(bytes)); process.exit(0); });
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['-e', code, `${base}/v2/accounts/${boot.accountId}/presence/stream`, token, String(STREAMS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 30_000;
  while (app && Date.now() < deadline && openCount() < STREAMS) await new Promise<void>((r) => clock.setTimer(50, r));
  return {
    close: () =>
      new Promise<number>((resolve) => {
        child.once('close', () => resolve(Number(out) || 0));
        child.kill('SIGTERM');
      }),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

await phase(Math.min(PHASE_MS, 3000)); // warm-up
const a: number[] = [];
const b: number[] = [];
for (let p = 0; p < PAIRS; p++) {
  const ra = await phase(PHASE_MS);
  a.push(ra.cpuUs / ra.notifies);
  const streams = await openStreams();
  await new Promise<void>((r) => clock.setTimer(500, r)); // snapshots sent
  const open = openCount();
  const rb = await phase(PHASE_MS);
  const got = await streams.close();
  b.push(rb.cpuUs / rb.notifies);
  process.stderr.write(
    `pair ${p + 1}: A ${ra.notifies} NOTIFYs ${(ra.cpuUs / ra.notifies).toFixed(1)} µs/NOTIFY; B ${rb.notifies} NOTIFYs ${(rb.cpuUs / rb.notifies).toFixed(1)} µs/NOTIFY, ${open} streams read ${(got / 1e6).toFixed(1)} MB\n`,
  );
  await new Promise<void>((r) => clock.setTimer(300, r));
}
const ma = median(a);
const mb = median(b);
process.stdout.write(
  `${JSON.stringify({ subscriptions: stack.notifier.count(), resources: RESOURCES, publishPerS: RATE, streams: STREAMS, phaseS: PHASE_MS / 1000, pairs: PAIRS, aUsPerNotify: a.map((x) => +x.toFixed(1)), bUsPerNotify: b.map((x) => +x.toFixed(1)), medianA: +ma.toFixed(1), medianB: +mb.toFixed(1), ratio: +(mb / ma).toFixed(3), publishAnswers: Object.fromEntries(statuses) })}\n`,
);
history.stop();
await api.close();
stack.dispose();
