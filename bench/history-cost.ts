/**
 * The history's cost per event (issue 23; issue 21 item 3): synthetic feed events straight into
 * PresenceHistory.observe, in process, no SIP, no store (a repository that keeps nothing), so what is measured is the
 * recording alone: CPU per event, the collector's time, and the heap it keeps once full (the rings hold 200,000
 * entries; the warm-up fills them first, so the measured events also evict).
 *
 *   npm run bench:history                                   this build
 *   npm run bench:history -- --baseline /path/to/other/dist  and another build, in the same run (its
 *                                                           dist/src/history/presence-history.js), rounds alternating
 *
 * Two mixes: `fanout`, the fan-out step's shape (1,000 resources with 10 watchers each; per PUBLISH a `publish` and
 * a `state` entry, then 10 NOTIFYs and their 10 answers), and `notify` (NOTIFY and answer only, 10,000
 * subscriptions). Options: --rounds N (5), --events N (measured per round, 220,000), --mix fanout|notify|both.
 * Prints medians over the rounds (and the range), and each figure's ratio to the baseline. Run with --expose-gc
 * (the npm script does). Figures only; nothing is asserted.
 */
import { join, resolve } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { PresenceEvent } from '../src/feed/presence-feed.js';
import { PresenceHistory, type PresenceHistoryOptions } from '../src/history/presence-history.js';
import { silentLogger } from '../src/lib/logger.js';
import type { HistoryRepository } from '../src/store/history-port.js';
import type { SubscriptionRecord } from '../src/store/records.js';

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    events: { type: 'string', default: '220000' },
    mix: { type: 'string', default: 'both' },
  },
});
const ROUNDS = Number(args.rounds);
const MEASURED = Number(args.events);
/** Past the global bound (200,000), so the measured events run with full rings. */
const WARM = 300_000;
const RESOURCES = 1000;
const WATCHERS = 10;
const DOMAIN = 'bench.example.com';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('run with node --expose-gc (npm run bench:history does)\n');
  process.exit(2);
}

interface HistoryLike {
  observe(e: PresenceEvent): void;
  flush(): void;
  query(resources: readonly string[], q: { limit: number }): { entries: unknown[] };
  readonly held: number;
}
type Build = { name: string; make(opts: PresenceHistoryOptions): HistoryLike };

const builds: Build[] = [{ name: 'this build', make: (o) => new PresenceHistory(o) }];
if (args.baseline) {
  const file = join(resolve(args.baseline), 'src', 'history', 'presence-history.js');
  const mod = (await import(pathToFileURL(file).href)) as { PresenceHistory: new (o: PresenceHistoryOptions) => HistoryLike };
  builds.unshift({ name: `baseline (${args.baseline})`, make: (o) => new mod.PresenceHistory(o) });
}

/** Keeps nothing: the store's batches are not what is measured. */
const nullRepository: HistoryRepository = { append: () => {}, query: () => [], maxSeq: () => 0, prune: () => 0, close: () => {} };

function subscription(resource: number, watcher: number): SubscriptionRecord {
  const callId = `b${resource}w${watcher}@192.0.2.${watcher + 1}`;
  return {
    id: `${callId};lt${resource}.${watcher};rt${watcher}`,
    callId,
    event: 'dialog',
    resource: String(1000 + resource),
    domain: DOMAIN,
    watcherUser: String(2000 + ((resource * WATCHERS + watcher) % 5000)),
    watcherDomain: DOMAIN,
    contact: `sip:watcher@192.0.2.${watcher + 1}:5060`,
    grantedExpires: 3600,
    flow: { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: `192.0.2.${watcher + 1}`, remotePort: 5060, connectionId: null },
  } as unknown as SubscriptionRecord;
}

/**
 * One cycle of events (every resource published once), reusing its objects: the notifier makes them, and that is not
 * the history's cost. `next(i)` is the i-th event of the run; each cycle raises the CSeqs and versions.
 */
class EventCycle {
  readonly events: PresenceEvent[] = [];
  readonly perRound: number;
  private readonly sent: { cseq: number; version: number }[] = [];
  private readonly answered: { cseq: number }[] = [];
  /** Per resource its publication and change, whose document alternates by cycle (so each makes a `state` entry). */
  private readonly changes: { publication: { document: unknown; etag: string }; changed: { states: unknown[] } }[] = [];
  private readonly docs = ['confirmed', 'terminated'].map((state) => ({ format: 'dialog-info', dialogs: [{ id: 'd1', state }] }));
  private cycle = -1;

  constructor(mix: 'fanout' | 'notify') {
    const publisher = { source: '192.0.2.200:5060', transport: 'udp', from: 'sip:pbx@bench.example.com', userAgent: 'BenchPBX/1.0', callId: 'pub@192.0.2.200' };
    for (let r = 0; r < RESOURCES; r++) {
      const resource = `${1000 + r}@${DOMAIN}`;
      const subs = Array.from({ length: WATCHERS }, (_, w) => subscription(r, w));
      if (mix === 'fanout') {
        const publication = { kind: 'publication', resource, event: 'dialog', action: 'modify', etag: `e${r}`, expires: 3600, publisher, document: this.docs[0] };
        const changed = { kind: 'resource-changed', resource, events: ['dialog'], force: false, states: [this.docs[0]] };
        this.changes.push({ publication, changed });
        this.events.push(publication as PresenceEvent, changed as PresenceEvent);
      }
      for (const s of subs) {
        const e = { kind: 'notify-sent' as const, subscription: s, final: false, cseq: 1, version: 0 };
        this.sent.push(e);
        this.events.push(e);
      }
      for (const s of subs) {
        const e = { kind: 'notify-answered' as const, subscription: s, answer: { ok: true as const, status: 200 }, cseq: 1 };
        this.answered.push(e);
        this.events.push(e);
      }
    }
    this.perRound = this.events.length / RESOURCES;
  }

  next(i: number): PresenceEvent {
    const c = Math.floor(i / this.events.length);
    if (c !== this.cycle) {
      this.cycle = c;
      for (const e of this.sent) {
        e.cseq = c + 2;
        e.version = c + 1;
      }
      for (const e of this.answered) e.cseq = c + 2;
      this.changes.forEach(({ publication, changed }, r) => {
        publication.document = changed.states[0] = this.docs[(r + c) & 1];
        publication.etag = `e${r}.${c}`;
      });
    }
    return this.events[i % this.events.length]!;
  }
}

let gcMs = 0;
let gcFrom = 0;
let gcTo = Infinity;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.startTime >= gcFrom && e.startTime <= gcTo) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

function retainedBytes(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

interface Figures {
  nsPerEvent: number;
  cpuNsPerEvent: number;
  gcMsPer100k: number;
  retainedMB: number;
  queryUs: number;
}

async function once(build: Build, mix: 'fanout' | 'notify'): Promise<Figures> {
  const clock = { t: Date.now() };
  const before = retainedBytes();
  const history = build.make({
    feed: undefined as never,
    clock: { now: () => clock.t, setTimer: () => ({ cancel: () => {} }) },
    logger: silentLogger,
    repository: nullRepository,
    stateOf: () => ({ format: 'dialog-info' }) as never,
  });
  const feed = cycles[mix];
  // A flush (the 1 s batch) per 1,000 rounds: 1,000 PUBLISH/s; the clock moves 1 ms per round.
  const flushEvery = feed.perRound * 1000;
  const step = (i: number): void => {
    if (i % feed.perRound === 0) clock.t += 1;
    history.observe(feed.next(i));
    if (i % flushEvery === 0) history.flush();
  };
  for (let i = 0; i < WARM; i++) step(i);
  await settle();
  gcMs = 0;
  gcFrom = performance.now();
  gcTo = Infinity;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = WARM; i < WARM + MEASURED; i++) step(i);
  const wall = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  gcTo = performance.now();
  await settle();
  const gcSpent = gcMs;
  const retained = retainedBytes() - before;
  // The read side: a page of 50 and one of 1,000 (a whole ring) per resource.
  const q0 = process.hrtime.bigint();
  for (let r = 0; r < RESOURCES; r++) {
    history.query([`${1000 + r}@${DOMAIN}`], { limit: 50 });
    history.query([`${1000 + r}@${DOMAIN}`], { limit: 1000 });
  }
  const queryUs = Number(process.hrtime.bigint() - q0) / 1000 / RESOURCES;
  if (history.held === 0) throw new Error('nothing held');
  return {
    nsPerEvent: wall / MEASURED,
    cpuNsPerEvent: ((cpu.user + cpu.system) * 1000) / MEASURED,
    gcMsPer100k: (gcSpent * 100_000) / MEASURED,
    retainedMB: retained / 2 ** 20,
    queryUs,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const cycles = { fanout: new EventCycle('fanout'), notify: new EventCycle('notify') };
const mixes = args.mix === 'both' ? (['fanout', 'notify'] as const) : ([args.mix as 'fanout' | 'notify'] as const);
const KEYS: [keyof Figures, string, number][] = [
  ['nsPerEvent', 'ns/event (wall)', 0],
  ['cpuNsPerEvent', 'ns/event (CPU)', 0],
  ['gcMsPer100k', 'GC ms per 100k events', 1],
  ['retainedMB', 'retained MB (heap + array buffers)', 1],
  ['queryUs', 'µs per query (page of 50 + of 1,000)', 1],
];
process.stdout.write(`history cost: ${ROUNDS} rounds, ${WARM.toLocaleString('en')} warm-up + ${MEASURED.toLocaleString('en')} measured events each; load ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
for (const mix of mixes) {
  const runs = new Map<Build, Figures[]>(builds.map((b) => [b, []]));
  for (let r = 0; r < ROUNDS; r++) {
    // Alternating order, so neither build always runs on a warmer or a fuller heap.
    for (const b of r % 2 ? [...builds].reverse() : builds) runs.get(b)!.push(await once(b, mix));
  }
  process.stdout.write(`\nmix ${mix}${mix === 'fanout' ? ' (per PUBLISH: publish, state, 10 NOTIFYs, 10 answers)' : ' (NOTIFY and answer)'}\n`);
  process.stdout.write(`| figure | ${builds.map((b) => b.name).join(' | ')}${builds.length > 1 ? ' | ratio' : ''} |\n|---|${builds.map(() => '---').join('|')}${builds.length > 1 ? '|---' : ''}|\n`);
  for (const [key, label, digits] of KEYS) {
    const cells = builds.map((b) => {
      const xs = runs.get(b)!.map((f) => f[key]);
      return { med: median(xs), text: `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})` };
    });
    const ratio = builds.length > 1 ? ` | ${(cells[1]!.med / cells[0]!.med).toFixed(2)}×` : '';
    process.stdout.write(`| ${label} | ${cells.map((c) => c.text).join(' | ')}${ratio} |\n`);
  }
}
process.stdout.write('\nmedian (min-max) over the rounds; ratio = this build / baseline\n');
