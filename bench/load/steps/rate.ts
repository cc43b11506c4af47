import type { Transport } from '../options.js';
import { CpuWindow, round, type RunContext } from '../run-context.js';
import { extensionsCsv } from '../sipp-run.js';
import { troubles } from '../sipp-stats.js';
import { udpDrops } from '../proc-stats.js';
import type { Target } from '../targets.js';

/**
 * Highest sustained SUBSCRIBE rate: each step is a fresh server and `sipp -r R -m R*duration` with subscribe.xml
 * (SUBSCRIBE, 2xx, initial NOTIFY, 200). A step passes only with every call successful, no retransmission either
 * way, no out-of-call/dead-call/auto-answered message, and the calls done within 1.05 x duration + 0.5 s (over one
 * TCP connection overload shows as lateness, not failures). Rates double from rateStart until a step fails, then
 * bisect down to rateResolution.
 */

export interface RateStepResult {
  rate: number;
  pass: boolean;
  why: string;
  success: number;
  durationS: number;
  serverCpuS: number;
  cpuUsPerSub: number | null;
  sippCpuS: number;
  otherCores: number;
  noiseBefore: number;
  serverSocketDrops: number;
  sippSocketDrops: number;
  memKiB: number | null;
}

export interface RateResult {
  target: string;
  transport: Transport;
  rep: number;
  maxRate: number;
  firstFail: number | null;
  achievedCps: number | null;
  cpuUsPerSub: number | null;
  steps: RateStepResult[];
}

async function rateStep(ctx: RunContext, target: Target, transport: Transport, rep: number, rate: number): Promise<RateStepResult> {
  const noiseBefore = await ctx.noiseGate();
  await target.start(`rate-${transport}-${rep}-${rate}`);
  try {
    const res = await measureSubscribeRate(ctx, target, transport, `rate-${transport}-rep${rep}-r${rate}`, rate, 'r', noiseBefore);
    ctx.record({ test: 'rate_step', target: target.label, transport, rep, ...res });
    ctx.log(`  ${target.label} rate ${transport} r=${rate}: ${describeRateStep(res, ctx.opts.rateDurationS)}`);
    return res;
  } finally {
    await target.stop();
  }
}

/**
 * One step on a running server: subscribe.xml at `rate` for rateDurationS, watcher users `<watchers><n>`, and the
 * verdict above. The held step runs it on a server that holds subscriptions already.
 */
export async function measureSubscribeRate(
  ctx: RunContext, target: Target, transport: Transport, name: string, rate: number, watchers: string, noiseBefore: number,
): Promise<RateStepResult> {
  const { opts } = ctx;
  const calls = Math.round(rate * opts.rateDurationS);
  const limit = Math.min(15000, Math.max(1000, rate * 3));
  const drops0 = transport === 'udp' ? udpDrops(target.port) : 0;
  const cpu = new CpuWindow(target);
  const sipp = await ctx.sipp(target, name, 'subscribe.xml', transport, [
    '-inf', extensionsCsv(ctx.outDir, 1000),
    '-key', 'wp', watchers,
    '-m', String(calls), '-r', String(rate), '-l', String(limit),
    '-recv_timeout', '5000', '-timeout', `${opts.rateDurationS + 15}s`,
  ]);
  const out = await sipp.wait((opts.rateDurationS + 30) * 1000, opts.rateAbort);
  const c = cpu.end(out.cpuS);
  const mem = target.memoryKiB().value;
  const drops = transport === 'udp' ? udpDrops(target.port) - drops0 : 0;
  const s = out.stats;
  const t = troubles(s);
  if (s.autoAnswered) t.auto_answered = s.autoAnswered;
  const why: string[] = [];
  if (out.abortedEarly) why.push('aborted at first failure');
  if (out.overran) why.push('overran its deadline');
  if (s.success !== calls) why.push(`${s.success}/${calls} calls ok`);
  for (const [k, v] of Object.entries(t)) why.push(`${k}=${v}`);
  if (s.durationS > opts.rateDurationS * 1.05 + 0.5) why.push(`late: ${s.durationS}s`);
  return {
    rate, pass: why.length === 0, why: why.join(', '), success: s.success, durationS: s.durationS,
    serverCpuS: c.serverS, cpuUsPerSub: s.success > 0 ? round((c.serverS * 1e6) / s.success, 1) : null,
    sippCpuS: round(out.cpuS, 2), otherCores: c.otherCores, noiseBefore,
    serverSocketDrops: drops, sippSocketDrops: out.socketDrops, memKiB: mem,
  };
}

/** The log text of one step: verdict, calls, CPU, drops, noise. */
export function describeRateStep(r: RateStepResult, durationS: number): string {
  return (
    `${r.pass ? 'PASS' : 'FAIL'} ok=${r.success}/${Math.round(r.rate * durationS)} dur=${r.durationS}s ` +
    `cpu=${r.serverCpuS}s (${r.cpuUsPerSub} us/sub) sipp=${r.sippCpuS}s drops srv/sipp=${r.serverSocketDrops}/${r.sippSocketDrops} ` +
    `noise before/during=${r.noiseBefore}/${r.otherCores}${r.pass ? '' : ' -- ' + r.why}`
  );
}

/**
 * The highest rate whose step passes: doubling from `rateStart` up to `rateMax` until a step fails, then bisecting to
 * `rateResolution`. `lo` is the highest passing rate (0: none), `hi` the lowest failing one (null: none failed).
 */
export async function searchMaxRate<S extends { pass: boolean }>(
  opts: RunContext['opts'],
  step: (rate: number) => Promise<S>,
): Promise<{ steps: S[]; lo: number; hi: number | null }> {
  const steps: S[] = [];
  let lo = 0;
  let hi: number | null = null;
  let r = opts.rateStart;
  for (;;) {
    const s = await step(r);
    steps.push(s);
    if (!s.pass) {
      hi = r;
      break;
    }
    lo = r;
    if (r >= opts.rateMax) break;
    r = Math.min(opts.rateMax, r * 2);
  }
  while (hi !== null && hi - lo > opts.rateResolution) {
    let mid = Math.round((lo + hi) / 2 / opts.rateResolution) * opts.rateResolution;
    if (mid <= lo) mid = lo + opts.rateResolution;
    if (mid >= hi) break;
    const s = await step(mid);
    steps.push(s);
    if (s.pass) lo = mid;
    else hi = mid;
  }
  return { steps, lo, hi };
}

export async function rateSearch(ctx: RunContext, target: Target, transport: Transport, rep: number): Promise<RateResult> {
  const { opts } = ctx;
  const { steps, lo, hi } = await searchMaxRate(opts, (r) => rateStep(ctx, target, transport, rep, r));
  const best = steps.find((s) => s.pass && s.rate === lo);
  const res: RateResult = {
    target: target.label, transport, rep, maxRate: lo, firstFail: hi,
    achievedCps: best ? round(best.success / best.durationS, 0) : null,
    cpuUsPerSub: best?.cpuUsPerSub ?? null,
    steps,
  };
  ctx.record({ test: 'rate_max', ...res, steps: undefined });
  ctx.log(`${target.label} rate ${transport} rep${rep}: max sustained ${lo}/s (first failing step ${hi ?? 'none'}), ${res.cpuUsPerSub} us CPU/sub`);
  return res;
}
