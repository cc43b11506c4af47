import { readFileSync } from 'node:fs';
import { extent, percentile, round } from './run-context.js';

/**
 * PUBLISH -> NOTIFY latency from SIPp's -trace_logs lines: the publisher logs `PUB <ext> <state> <s> <us>` before it
 * sends, each watcher logs `NOT <ext> st=<state> <s> <us>` when a NOTIFY arrives. A NOTIFY is matched to the
 * PUBLISH of its extension and dialog state; a body without a dialog state counts as idle (terminated).
 */

export interface WaveFigures {
  publishes: number;
  notifies: number;
  expected: number;
  /** first PUBLISH of the wave -> last NOTIFY of the wave */
  spanMs: number | null;
  notifyPerS: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** per PUBLISH: time until the last of its watchers had the NOTIFY */
  allWatchersP50Ms: number | null;
  allWatchersMaxMs: number | null;
}

function time(s: string | undefined, us: string | undefined): number {
  return Number(s) + Number(us) / 1e6;
}

export function analyseFanout(pubLog: string, subLog: string, watchersPerResource: number): Record<'confirmed' | 'terminated', WaveFigures> {
  const pubs = new Map<string, number>();
  for (const line of readFileSync(pubLog, 'latin1').split('\n')) {
    const p = line.trim().split(/\s+/);
    if (p[0] === 'PUB' && p.length >= 5) pubs.set(`${p[1]} ${p[2]}`, time(p[3], p[4]));
  }
  const nots: Record<string, { ext: string; t: number }[]> = { confirmed: [], terminated: [] };
  for (const line of readFileSync(subLog, 'latin1').split('\n')) {
    const p = line.trim().split(/\s+/);
    if (p[0] !== 'NOT' || p.length < 5) continue;
    let st = p[2]!.startsWith('st=') ? p[2]!.slice(3).toLowerCase() : '';
    if (st !== 'confirmed') st = 'terminated';
    nots[st]!.push({ ext: p[1]!, t: time(p[3], p[4]) });
  }
  const out = {} as Record<'confirmed' | 'terminated', WaveFigures>;
  for (const st of ['confirmed', 'terminated'] as const) {
    const pt = [...pubs].filter(([k]) => k.endsWith(' ' + st)).map(([, t]) => t);
    const list = nots[st]!;
    const lat: number[] = [];
    const perPub = new Map<string, number>();
    for (const n of list) {
      const t0 = pubs.get(`${n.ext} ${st}`);
      if (t0 === undefined) continue;
      const ms = (n.t - t0) * 1000;
      lat.push(ms);
      perPub.set(n.ext, Math.max(perPub.get(n.ext) ?? -Infinity, ms));
    }
    lat.sort((a, b) => a - b);
    const all = [...perPub.values()].sort((a, b) => a - b);
    const first = extent(pt)?.min ?? null;
    const last = extent(list.map((n) => n.t))?.max ?? null;
    const span = first !== null && last !== null ? last - first : null;
    const r2 = (x: number | null): number | null => (x === null ? null : round(x, 2));
    out[st] = {
      publishes: pt.length,
      notifies: list.length,
      expected: pt.length * watchersPerResource,
      spanMs: span === null ? null : round(span * 1000, 1),
      notifyPerS: span && span > 0 ? Math.round(list.length / span) : null,
      p50Ms: r2(percentile(lat, 50)),
      p99Ms: r2(percentile(lat, 99)),
      maxMs: r2(lat.length ? lat[lat.length - 1]! : null),
      allWatchersP50Ms: r2(percentile(all, 50)),
      allWatchersMaxMs: r2(all.length ? all[all.length - 1]! : null),
    };
  }
  return out;
}
