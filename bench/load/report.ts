import type { BenchOptions, Transport } from './options.js';
import { median, round } from './run-context.js';
import type { RateResult } from './steps/rate.js';
import type { FanoutResult } from './steps/fanout.js';
import type { MemoryResult } from './steps/memory.js';
import type { RestartResult } from './steps/restart.js';
import type { StormResult } from './steps/storm.js';
import type { TwResults } from './steps/tw.js';
import type { ClusterResult } from './steps/cluster.js';
import type { HeldResults } from './steps/held.js';
import { heldRows } from './held-report.js';

/**
 * The summary table: each figure for the target and (with --vs) the reference, their ratio, and the target
 * for that figure with a verdict. Medians over --reps. A target whose inputs are missing is "not measured".
 */

export interface AllResults {
  rate: RateResult[];
  fanout: FanoutResult[];
  memory: MemoryResult[];
  restart: RestartResult[];
  storm: StormResult[];
  /** The TLS, WebSocket and digest steps (bench/load/steps/tw.ts). */
  tw: TwResults;
  /** The cluster step, reported in its own table (clusterReport). */
  cluster: ClusterResult[];
  /** The held-state step (bench/load/steps/held.ts). */
  held: HeldResults;
}

type Better = 'higher' | 'lower';

interface Row {
  what: string;
  ours: number | null;
  ref: number | null;
  unit: string;
  /** ratio goal ours/ref (e.g. 1.25 higher-is-better, 0.8 lower-is-better), or an absolute limit. */
  goal?: { ratio?: number; absolute?: number; better: Better; text: string };
  note?: string;
}

function fmt(x: number | null, digits = 0): string {
  if (x === null) return 'n/a';
  return digits === 0 ? String(Math.round(x)) : x.toFixed(digits);
}

function verdict(r: Row): string {
  if (!r.goal) return '';
  const g = r.goal;
  if (r.ours === null) return 'not measured';
  if (g.absolute !== undefined) {
    const ok = g.better === 'higher' ? r.ours >= g.absolute : r.ours <= g.absolute;
    return ok ? 'met' : '**missed**';
  }
  if (g.ratio !== undefined) {
    if (r.ref === null || r.ref === 0) return 'no reference';
    const ratio = r.ours / r.ref;
    const ok = g.better === 'higher' ? ratio >= g.ratio : ratio <= g.ratio;
    return ok ? 'met' : '**missed**';
  }
  return '';
}

export function buildReport(opts: BenchOptions, res: AllResults, oursLabel: string, refLabel: string | null): string {
  const rows: Row[] = [];
  const m = <T>(list: T[], label: string, pick: (x: T) => number | null | undefined, filter: (x: T) => boolean = () => true): number | null =>
    median(list.filter((x) => (x as { target: string }).target === label && filter(x)).map(pick));
  const both = <T>(list: T[], pick: (x: T) => number | null | undefined, filter: (x: T) => boolean = () => true): [number | null, number | null] => [
    m(list, oursLabel, pick, filter),
    refLabel ? m(list, refLabel, pick, filter) : null,
  ];

  for (const tr of opts.transports) {
    if (!res.rate.some((r) => r.transport === tr)) continue;
    const f = (r: RateResult): boolean => r.transport === tr;
    const [a, b] = both(res.rate, (r) => r.maxRate, f);
    rows.push({ what: `SUBSCRIBE rate ${tr.toUpperCase()} (max passing step, ${opts.rateDurationS} s, 0 failures, 0 retransmissions)`, ours: a, ref: b, unit: '/s',
      goal: { ratio: 1.25, better: 'higher', text: '>= 1.25x reference' } });
    const [ac, bc] = both(res.rate, (r) => r.achievedCps, f);
    rows.push({ what: `  achieved SUBSCRIBE/s at that step ${tr.toUpperCase()}`, ours: ac, ref: bc, unit: '/s' });
    const [c, d] = both(res.rate, (r) => r.cpuUsPerSub, f);
    rows.push({ what: `  server CPU per subscription ${tr.toUpperCase()} (at that step)`, ours: c, ref: d, unit: 'us',
      goal: { ratio: 0.8, better: 'lower', text: '<= 0.8x reference' } });
  }

  const fanKinds = [...new Set(res.fanout.map((r) => `${r.label}|${r.transport}`))];
  for (const k of fanKinds) {
    const [label, tr] = k.split('|') as [string, Transport];
    const f = (r: FanoutResult): boolean => r.label === label && r.transport === tr;
    const any = res.fanout.find(f)!;
    const head = `fan-out ${label} ${tr.toUpperCase()} (${any.subs} subs / ${any.resources} resources, PUBLISH ${any.publishRate}/s)`;
    const [np, nq] = both(res.fanout, (r) => r.notifyPerS, f);
    const burst = label === 'burst';
    rows.push({ what: `${head}: NOTIFY/s (busier wave)`, ours: np, ref: nq, unit: '/s',
      ...(burst ? { goal: { ratio: 1.25, better: 'higher' as Better, text: '>= 1.25x reference' } } : {}) });
    const worseP = (r: FanoutResult, key: 'p50Ms' | 'p99Ms' | 'maxMs'): number | null => {
      const v = [r.waves.confirmed[key], r.waves.terminated[key]].filter((x): x is number => x !== null);
      return v.length ? Math.max(...v) : null;
    };
    const [p50a, p50b] = both(res.fanout, (r) => worseP(r, 'p50Ms'), f);
    rows.push({ what: `  latency p50 (worse wave)`, ours: p50a, ref: p50b, unit: 'ms' });
    const [p99a, p99b] = both(res.fanout, (r) => worseP(r, 'p99Ms'), f);
    rows.push({ what: `  latency p99 (worse wave)`, ours: p99a, ref: p99b, unit: 'ms',
      ...(!burst ? { goal: { ratio: 1.0, better: 'lower' as Better, text: 'no worse than reference' } } : {}) });
    const [mxa, mxb] = both(res.fanout, (r) => worseP(r, 'maxMs'), f);
    rows.push({ what: `  latency max (worse wave)`, ours: mxa, ref: mxb, unit: 'ms' });
    const [ca, cb] = both(res.fanout, (r) => r.cpuUsPerNotify, f);
    rows.push({ what: `  server CPU per NOTIFY`, ours: ca, ref: cb, unit: 'us',
      ...(!burst ? { goal: { ratio: 0.8, better: 'lower' as Better, text: '<= 0.8x reference' } } : {}) });
    const [ia, ib] = both(res.fanout, (r) => r.restCpuMsPerS, f);
    rows.push({ what: `  server CPU at rest with the subscriptions, in the 3 s after the last NOTIFY`, ours: ia, ref: ib, unit: 'ms/s' });
    const [la, lb] = both(res.fanout, (r) => r.lostNotifies + r.failedCalls + (r.subs - r.established), f);
    rows.push({ what: `  lost NOTIFYs + failed calls`, ours: la, ref: lb, unit: '', goal: { absolute: 0, better: 'lower', text: '0' } });
    const [ra, rb] = both(res.fanout, (r) => r.notifyRetrans + r.publishRetrans, f);
    rows.push({ what: `  retransmissions in the publish phase (NOTIFY by server, PUBLISH by sipp)`, ours: ra, ref: rb, unit: '',
      goal: { absolute: 0, better: 'lower', text: '0' } });
    const [fa, fb] = both(res.fanout, (r) => r.fillRetrans, f);
    rows.push({ what: `  retransmissions while subscribing (fill at ${any.subs >= 50000 ? 'burst fill rate' : 'fill rate'})`, ours: fa, ref: fb, unit: '' });
  }

  if (res.memory.length) {
    const pts = [...new Set(res.memory.flatMap((r) => r.points.map((p) => opts.memoryPoints.find((q) => Math.abs(q - p.subs) <= q * 0.01) ?? p.subs)))];
    for (const n of pts.sort((x, y) => x - y)) {
      const pick = (r: MemoryResult): number | null => {
        const p = r.points.find((q) => Math.abs(q.subs - n) <= Math.max(1, n * 0.01));
        return p?.kib != null ? round(p.kib / 1024, 1) : null;
      };
      const [a, b] = both(res.memory, pick);
      rows.push({ what: `memory at ${n} subscriptions (ours VmRSS, Kamailio PSS sum)`, ours: a, ref: b, unit: 'MiB' });
    }
    const [g, h] = both(res.memory, (r) => r.bytesPerSubFromZero);
    rows.push({ what: `  growth per subscription (0 -> last point)`, ours: g, ref: h, unit: 'B',
      goal: { absolute: 2048, better: 'lower', text: '<= 2048 B' } });
    const [la, lb] = both(res.memory, (r) => r.late?.bytesPerSub);
    if (la !== null || lb !== null) {
      const after = res.memory.find((r) => r.late)?.late?.afterS;
      rows.push({ what: `  growth per subscription (0 -> last point, sampled ${after} s after the fill)`, ours: la, ref: lb, unit: 'B',
        goal: { absolute: 2048, better: 'lower', text: '<= 2048 B' } });
    }
    const [s, t] = both(res.memory, (r) => r.bytesPerSubSlope);
    rows.push({ what: `  growth per subscription (first -> last filled point)`, ours: s, ref: t, unit: 'B' });
    const [u, v] = both(res.memory, (r) => r.points[r.points.length - 1]!.subs);
    rows.push({ what: `  subscriptions held at the last point`, ours: u, ref: v, unit: '',
      goal: { absolute: Math.max(...opts.memoryPoints), better: 'higher', text: `${Math.max(...opts.memoryPoints)} held` } });
  }

  if (res.storm.length) {
    const [a, b] = both(res.storm, (r) => r.resubscribed);
    const any = res.storm[0]!;
    rows.push({ what: `reboot storm UDP: watchers re-subscribed (${any.watchers} within ${any.windowS} s, state changes going on)`, ours: a, ref: b, unit: '',
      goal: { absolute: any.watchers, better: 'higher', text: `${any.watchers}` } });
    const [sa, sb] = both(res.storm, (r) => r.stormSpanS);
    rows.push({ what: `  first -> last re-subscription established`, ours: sa, ref: sb, unit: 's' });
    const [fa, fb] = both(res.storm, (r) => r.failedCalls + r.publishFailed);
    rows.push({ what: `  failed calls (SUBSCRIBE + PUBLISH)`, ours: fa, ref: fb, unit: '', goal: { absolute: 0, better: 'lower', text: '0' } });
    const [ra, rb] = both(res.storm, (r) => r.subscribeRetrans + r.notifyRetrans + r.publishRetrans);
    rows.push({ what: `  retransmissions during the storm (SUBSCRIBE, NOTIFY, PUBLISH)`, ours: ra, ref: rb, unit: '', goal: { absolute: 0, better: 'lower', text: '0' } });
    const [pa, pb] = both(res.storm, (r) => r.fillPhaseRetrans);
    rows.push({ what: `  retransmissions while the first ${any.watchers} subscribed (before the storm)`, ours: pa, ref: pb, unit: '' });
    const [da, db] = both(res.storm, (r) => r.serverSocketDrops);
    rows.push({ what: `  datagrams dropped at the server socket during the storm`, ours: da, ref: db, unit: '' });
    const [xa, xb] = both(res.storm, (r) => r.staleWatchers);
    rows.push({ what: `  watchers not showing the last state afterwards`, ours: xa, ref: xb, unit: '', goal: { absolute: 0, better: 'lower', text: '0' } });
    const [na, nb] = both(res.storm, (r) => r.notifiesDuringStorm);
    rows.push({ what: `  NOTIFYs delivered during the storm`, ours: na, ref: nb, unit: '' });
    const [ca, cb] = both(res.storm, (r) => r.serverCpuS);
    rows.push({ what: `  server CPU during the storm`, ours: ca, ref: cb, unit: 's' });
  }

  if (res.restart.length) {
    const [a] = both(res.restart, (r) => r.readyMs);
    const stored = median(res.restart.map((r) => r.stored));
    rows.push({ what: `restart: start -> "ready" with ${fmt(stored)} stored subscriptions`, ours: a, ref: null, unit: 'ms',
      goal: { absolute: 5000, better: 'lower', text: '<= 5000 ms with 100k' }, note: 'Kamailio config keeps subscriptions in memory only: no restart figure' });
    const [r] = both(res.restart, (x) => x.restored);
    rows.push({ what: `  subscriptions restored`, ours: r, ref: null, unit: '' });
    const [s] = both(res.restart, (x) => x.stopMs);
    rows.push({ what: `  SIGTERM -> exit`, ours: s, ref: null, unit: 'ms' });
  }

  for (const kind of ['tls', 'ws', 'auth-udp'] as const) {
    const f = (r: TwResults['rate'][number]): boolean => r.kind === kind;
    if (!res.tw.rate.some(f)) continue;
    const name = kind === 'auth-udp' ? 'SUBSCRIBE rate with digest auth, UDP (SIPp -au/-ap answering 401)' : `SUBSCRIBE rate ${kind.toUpperCase()} (one connection, stream-load.js)`;
    const [a, b] = both(res.tw.rate, (r) => r.maxRate, f);
    rows.push({ what: `${name} (max passing step, ${opts.rateDurationS} s, 0 failures)`, ours: a, ref: b, unit: '/s', goal: { ratio: 1.25, better: 'higher', text: '>= 1.25x reference' } });
    const [c, d] = both(res.tw.rate, (r) => r.cpuUsPerSub, f);
    rows.push({ what: `  server CPU per subscription (at that step)`, ours: c, ref: d, unit: 'us', goal: { ratio: 0.8, better: 'lower', text: '<= 0.8x reference' } });
  }
  for (const kind of ['tcp', 'tls', 'ws'] as const) {
    const f = (r: TwResults['idle'][number]): boolean => r.kind === kind;
    if (!res.tw.idle.some(f)) continue;
    const [a, b] = both(res.tw.idle, (r) => r.bytesPerConn, f);
    const n = res.tw.idle.find(f)!.requested;
    rows.push({ what: `memory per idle ${kind.toUpperCase()} connection (${n} from 127.0.0.2-5; ours VmRSS, Kamailio PSS sum)`, ours: a, ref: b, unit: 'B', goal: { ratio: 1.0, better: 'lower', text: 'no more than reference' } });
    const [h, i] = both(res.tw.idle, (r) => r.held, f);
    rows.push({ what: `  connections held`, ours: h, ref: i, unit: '', goal: { absolute: n, better: 'higher', text: `${n}` } });
  }
  if (res.tw.handshakes.length) {
    const [a, b] = both(res.tw.handshakes, (r) => r.perS);
    rows.push({ what: `TLS handshakes per second (full, 64 at once, client on the same 2 cores)`, ours: a, ref: b, unit: '/s' });
    const [c, d] = both(res.tw.handshakes, (r) => r.cpuUsPerHandshake);
    rows.push({ what: `  server CPU per handshake`, ours: c, ref: d, unit: 'us' });
  }

  rows.push(...heldRows(opts, res.held, oursLabel, refLabel));

  const L: string[] = [];
  const refName = refLabel ?? 'reference';
  L.push(`| figure | ${oursLabel} | ${refLabel ? refName : '(no --vs)'} | ratio | target | verdict |`);
  L.push('|---|---|---|---|---|---|');
  for (const r of rows) {
    const digits = r.unit === 'us' || r.unit === 'ms' || r.unit === '%' || r.unit === 'ms/s' || r.unit === 'MiB' || r.unit === 's' ? 1 : 0;
    // A ratio of two growths in percent means nothing (their difference does): none for those rows.
    const ratio = r.unit !== '%' && r.ours !== null && r.ref !== null && r.ref !== 0 ? (r.ours / r.ref).toFixed(2) + 'x' : '';
    const u = r.unit && r.unit !== '/s' ? ` ${r.unit}` : r.unit;
    // The targets are ratios to Kamailio; against the floor a ratio only says how much of a cost is ours.
    const judged = refLabel === 'floor' && r.goal?.ratio !== undefined ? 'n/a (floor)' : verdict(r);
    L.push(`| ${r.what} | ${fmt(r.ours, digits)}${r.ours !== null ? u : ''} | ${refLabel ? fmt(r.ref, digits) + (r.ref !== null ? u : '') : ''} | ${ratio} | ${r.goal?.text ?? ''} | ${judged}${r.note && !refLabel ? '' : r.note ? ' (' + r.note + ')' : ''} |`);
  }
  return L.join('\n');
}
