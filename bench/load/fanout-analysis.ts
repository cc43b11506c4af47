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

/** SIPp logs a zero microsecond field as an empty string: the next token (or none) is then not a number. */
function time(s: string | undefined, us: string | undefined): number {
  const micro = us !== undefined && /^[0-9.]+$/.test(us) ? Number(us) : 0;
  return Number(s) + micro / 1e6;
}

export type Wave = 'confirmed' | 'terminated';
export const WAVES: readonly Wave[] = ['confirmed', 'terminated'];

/** `PUB <ext> <state> <s> <us>` lines: the send time of each extension's PUBLISH per state, keyed `<ext> <state>`. */
export function readPublishTimes(pubLog: string, into = new Map<string, number>()): Map<string, number> {
  for (const line of readFileSync(pubLog, 'latin1').split('\n')) {
    const p = line.trim().split(/\s+/);
    if (p[0] === 'PUB' && p.length >= 4) into.set(`${p[1]} ${p[2]}`, time(p[3], p[4]));
  }
  return into;
}

export interface NotifyArrival {
  ext: string;
  t: number;
}

/** `NOT <ext> st=<state> <s> <us>` lines of one watcher log, by wave. */
export function readNotifies(subLog: string): Record<Wave, NotifyArrival[]> {
  const nots: Record<Wave, NotifyArrival[]> = { confirmed: [], terminated: [] };
  for (const line of readFileSync(subLog, 'latin1').split('\n')) {
    const p = line.trim().split(/\s+/);
    if (p[0] !== 'NOT' || p.length < 4) continue;
    const st: Wave = p[2]!.toLowerCase() === 'st=confirmed' ? 'confirmed' : 'terminated';
    nots[st].push({ ext: p[1]!, t: time(p[3], p[4]) });
  }
  return nots;
}

/** One wave's figures from the PUBLISH times and the NOTIFY arrivals of that wave. */
export function waveFigures(pubs: Map<string, number>, st: Wave, list: readonly NotifyArrival[], watchersPerResource: number): WaveFigures {
  const pt = [...pubs].filter(([k]) => k.endsWith(' ' + st)).map(([, t]) => t);
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
  return {
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

export function analyseFanout(pubLog: string, subLog: string, watchersPerResource: number): Record<Wave, WaveFigures> {
  const pubs = readPublishTimes(pubLog);
  const nots = readNotifies(subLog);
  return { confirmed: waveFigures(pubs, 'confirmed', nots.confirmed, watchersPerResource), terminated: waveFigures(pubs, 'terminated', nots.terminated, watchersPerResource) };
}
