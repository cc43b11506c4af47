import { round, type RunContext } from '../run-context.js';
import { extensionsCsv } from '../sipp-run.js';
import type { Target } from '../targets.js';
import { sleep } from '../sleep.js';

/**
 * Memory: a fresh server is filled over UDP with subscribe.xml at memoryFillRate up to each of memoryPoints
 * (1,000 resources), and sampled memorySettleS seconds after each fill (finished transactions are kept a while:
 * Kamailio's tm ~5 s, RFC 3261 Timer J 32 s over UDP). Ours: VmRSS; Kamailio: PSS summed over its processes.
 */

export interface MemoryPoint {
  subs: number;
  kib: number | null;
  rssSumKiB: number | null;
  fillFailed: number;
}

export interface MemoryResult {
  target: string;
  rep: number;
  what: string;
  points: MemoryPoint[];
  /** (memory at the last point - memory at 0) / subscriptions, and the slope between the first and last filled point. */
  bytesPerSubFromZero: number | null;
  bytesPerSubSlope: number | null;
  /** The last point sampled again memoryLateS seconds later, and growth per subscription from 0 to it. */
  late: { afterS: number; kib: number | null; bytesPerSub: number | null } | null;
}

export async function fillSubscriptions(
  ctx: RunContext, target: Target, name: string, prefix: string, count: number, rate: number,
): Promise<{ ok: number; failed: number }> {
  const sipp = await ctx.sipp(target, name, 'subscribe.xml', 'udp', [
    '-inf', extensionsCsv(ctx.outDir, 1000), '-key', 'wp', prefix,
    '-m', String(count), '-r', String(rate), '-l', '5000',
    '-recv_timeout', '10000', '-timeout', `${Math.ceil(count / rate) + 60}s`,
  ]);
  const out = await sipp.wait((Math.ceil(count / rate) + 90) * 1000);
  return { ok: out.stats.success, failed: count - out.stats.success };
}

export async function memoryRun(ctx: RunContext, target: Target, rep: number, keepRunning: boolean): Promise<{ result: MemoryResult; running: boolean; filled: number }> {
  const { opts } = ctx;
  await ctx.noiseGate();
  await target.start(`memory-rep${rep}`);
  let done = false;
  try {
    await sleep(opts.memorySettleS * 1000);
    const m0 = target.memoryKiB();
    const points: MemoryPoint[] = [{ subs: 0, kib: m0.value, rssSumKiB: m0.rssSumKiB, fillFailed: 0 }];
    ctx.log(`  ${target.label} memory @0: ${m0.value} KiB (${m0.what})`);
    let have = 0;
    let i = 0;
    for (const point of opts.memoryPoints) {
      const add = point - have;
      if (add <= 0) continue;
      const f = await fillSubscriptions(ctx, target, `memory-rep${rep}-to${point}`, `m${String.fromCharCode(97 + i++)}x`, add, opts.memoryFillRate);
      have += f.ok;
      await sleep(opts.memorySettleS * 1000);
      const m = target.memoryKiB();
      points.push({ subs: have, kib: m.value, rssSumKiB: m.rssSumKiB, fillFailed: f.failed });
      ctx.log(`  ${target.label} memory @${have} (target ${point}, ${f.failed} failed): ${m.value} KiB (${m.what}), RSS sum ${m.rssSumKiB} KiB`);
    }
    const first = points.find((p) => p.subs > 0);
    const last = points[points.length - 1]!;
    const per = (a: MemoryPoint | undefined, b: MemoryPoint): number | null =>
      a && a.kib !== null && b.kib !== null && b.subs > a.subs ? round(((b.kib - a.kib) * 1024) / (b.subs - a.subs), 0) : null;
    const result: MemoryResult = {
      target: target.label, rep, what: m0.what, points,
      bytesPerSubFromZero: per(points[0], last),
      bytesPerSubSlope: first && first !== last ? per(first, last) : null,
      late: null,
    };
    if (opts.memoryLateS > 0) {
      await sleep(opts.memoryLateS * 1000);
      const m = target.memoryKiB();
      const p = { subs: last.subs, kib: m.value, rssSumKiB: m.rssSumKiB, fillFailed: 0 };
      result.late = { afterS: opts.memorySettleS + opts.memoryLateS, kib: m.value, bytesPerSub: per(points[0], p) };
      ctx.log(`  ${target.label} memory @${last.subs} after ${result.late.afterS}s: ${m.value} KiB (${result.late.bytesPerSub} B/sub from 0)`);
    }
    ctx.record({ test: 'memory', ...result });
    ctx.log(`${target.label} memory: ${result.bytesPerSubFromZero} B/sub from 0, ${result.bytesPerSubSlope} B/sub between ${first?.subs} and ${last.subs}`);
    done = true;
    return { result, running: keepRunning, filled: have };
  } finally {
    if (!done || !keepRunning) await target.stop();
  }
}
