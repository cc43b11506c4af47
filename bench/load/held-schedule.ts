import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * When held subscriptions refresh (the held step, bench/scenarios/hold-refresh.xml). Each phone asks for an Expires
 * somewhere in the range and re-SUBSCRIBEs at REFRESH_AT of it; its first refresh comes at a point of its period
 * spread evenly over the phones, as if they had been up for a long time, so the refreshes arrive at their steady
 * rate as soon as the fill is done instead of in a wave one period later. The spread is deterministic (additive
 * recurrences of two irrational numbers) so that every run and both servers get the same schedule.
 */

/** Many phones refresh well before the end (RFC 6665 section 4.1.2.1 only asks for "before"): 80% of Expires. */
export const REFRESH_AT = 0.8;

const GOLDEN = (Math.sqrt(5) - 1) / 2;
const SQRT2 = Math.SQRT2 - 1;

export interface HeldEntry {
  /** Watched extension (1000 + i mod resources, like the other steps' extension list). */
  ext: number;
  expiresS: number;
  /** From the moment the subscription is made to its first refresh, then every periodMs. */
  firstMs: number;
  periodMs: number;
}

function frac(x: number): number {
  return x - Math.floor(x);
}

/** The schedule of `count` held subscriptions over `resources` extensions. */
export function heldSchedule(count: number, expires: { min: number; max: number }, resources = 1000): HeldEntry[] {
  const out: HeldEntry[] = [];
  for (let i = 0; i < count; i++) {
    const expiresS = expires.min + Math.round((expires.max - expires.min) * frac((i + 1) * GOLDEN));
    const periodMs = Math.round(expiresS * REFRESH_AT * 1000);
    const firstMs = Math.floor(periodMs * frac((i + 1) * SQRT2));
    out.push({ ext: 1000 + (i % resources), expiresS, firstMs, periodMs });
  }
  return out;
}

/** Refreshes per second once every entry is held: the sum of 1 / period. */
export function refreshesPerS(entries: HeldEntry[]): number {
  let r = 0;
  for (const e of entries) r += 1000 / e.periodMs;
  return r;
}

/** sipp -inf text: SEQUENTIAL; field0 extension, field1 Expires, field2 first refresh ms, field3 period ms. */
export function heldCsvText(entries: HeldEntry[]): string {
  const lines = ['SEQUENTIAL'];
  for (const e of entries) lines.push(`${e.ext};${e.expiresS};${e.firstMs};${e.periodMs};`);
  return lines.join('\n') + '\n';
}

/**
 * The fill in parts of at most `size` (one sipp each): [from, count) pairs covering 0 .. total - 1. A part starts
 * when the one before is established, so a server that falls behind slows the fill down instead of drowning in
 * retransmissions of a fill that goes on at full rate (Kamailio at 75,000 of 100,000 held on a busy machine).
 */
export function fillParts(total: number, size: number): { from: number; count: number }[] {
  const out: { from: number; count: number }[] = [];
  for (let from = 0; from < total; from += size) out.push({ from, count: Math.min(size, total - from) });
  return out;
}

/** Writes (once per run folder) the injection file for entries from .. from + count - 1 and returns its path. */
export function heldCsv(outDir: string, from: number, count: number, expires: { min: number; max: number }): string {
  const f = resolve(outDir, `held-${from}-${count}-${expires.min}-${expires.max}.csv`);
  if (!existsSync(f)) writeFileSync(f, heldCsvText(heldSchedule(from + count, expires).slice(from)));
  return f;
}
