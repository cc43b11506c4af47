import type { Transport } from '../options.js';
import { CpuWindow, round, type RunContext } from '../run-context.js';
import { extensionsCsv, type SippRun } from '../sipp-run.js';
import { readSippStats } from '../sipp-stats.js';
import { refreshTroubles } from '../held-stats.js';
import type { Target } from '../targets.js';
import { sleep } from '../sleep.js';
import { fillParts, heldCsv, heldSchedule, refreshesPerS } from '../held-schedule.js';
import { describeRateStep, measureSubscribeRate, searchMaxRate, type RateStepResult } from './rate.js';

/**
 * State held (issue 21 item 2). Production servers take new subscriptions and refreshes while they hold many, so
 * each measurement here runs on a fresh server that first gets `held` subscriptions from hold-refresh.xml at
 * heldFillRate (a sipp per 10,000, each on its own port with a Call-ID per subscription, like the fan-out watchers;
 * each part starts when the one before is established); those stay and refresh on the schedule of held-schedule.ts
 * for the whole step. Before that fill every server gets heldPrime subscriptions that
 * are ended at once (subscribe-unsubscribe.xml): a fresh Node.js server is still compiling its hot paths, and
 * without the prime the held count would come with a warmer server. Then, after heldSettleS:
 *  - search: the rate step's search (searchMaxRate, subscribe.xml, the same verdict) with heldSubs held; a step also
 *    fails when the held subscriptions fail, time out or need retransmissions meanwhile;
 *  - cpu: one step at the fixed heldRate for each of heldPoints held: server CPU per new subscription as the held
 *    count grows (the refreshes during the step are counted in that CPU and reported beside it).
 * A fresh server per measurement keeps the held count what it says: the subscriptions a rate step makes stay an hour.
 */

export interface HeldStepResult extends RateStepResult {
  held: number;
  /** Subscribe-and-unsubscribe calls completed before the fill. */
  primed: number;
  /** Held subscriptions established before the measurement, and how long the fill took. */
  heldFilled: number;
  fillS: number;
  /** Refreshes completed during the measured step, and the steady rate the schedule gives. */
  refreshes: number;
  refreshWindowS: number;
  refreshesPerSPlanned: number;
  /** Failures, timeouts and refresh retransmissions of the held subscriptions during the step (held-stats.ts). */
  heldTroubles: number;
  /** Server CPU at rest in the REST_S seconds after the step (held + the step's subscriptions, refreshes going on), ms/s. */
  holdingCpuMsPerS: number | null;
}

export interface HeldRateResult {
  target: string;
  transport: Transport;
  rep: number;
  held: number;
  maxRate: number;
  firstFail: number | null;
  achievedCps: number | null;
  cpuUsPerSub: number | null;
  refreshesPerS: number | null;
  steps: HeldStepResult[];
}

export interface HeldCpuPoint {
  target: string;
  transport: Transport;
  rep: number;
  held: number;
  rate: number;
  pass: boolean;
  cpuUsPerSub: number | null;
  refreshesPerS: number | null;
  step: HeldStepResult;
}

export interface HeldResults {
  rate: HeldRateResult[];
  cpu: HeldCpuPoint[];
}

interface HeldSession {
  /** One sipp per part of the fill (held-schedule.ts fillParts), each on its own port. */
  runs: SippRun[];
  filled: number;
  fillS: number;
}

/** Seconds of CPU at rest measured after each step. */
const REST_S = 3;

/** Subscriptions per sipp of the fill: the fan-out step's 10,000 watchers per sipp. */
const FILL_PART = 10_000;

const sum = (runs: SippRun[], f: (r: SippRun) => number): number => runs.reduce((a, r) => a + f(r), 0);

/** What of the held sipps must not grow while the step runs (held-stats.ts; from their periodic statistics). */
function heldTroubleCount(runs: SippRun[]): number {
  return sum(runs, (r) => refreshTroubles(readSippStats(r.dir)));
}

/** Fills `count` held subscriptions on the running target, part after part, and waits for them (bounded). */
async function hold(ctx: RunContext, target: Target, transport: Transport, name: string, count: number): Promise<HeldSession> {
  const { opts } = ctx;
  const runs: SippRun[] = [];
  const t0 = Date.now();
  const fillBoundS = Math.ceil(count / opts.heldFillRate) * 3 + 30;
  const deadline = t0 + fillBoundS * 1000;
  // The calls never end: sipp's own deadline only has to outlast the fill, the pause and the measured step.
  const lifeS = fillBoundS + opts.heldSettleS + opts.rateDurationS + 120;
  let filled = 0;
  for (const [i, part] of fillParts(count, FILL_PART).entries()) {
    const run = await ctx.sipp(target, `${name}${i}`, 'hold-refresh.xml', transport, [
      '-inf', heldCsv(ctx.outDir, part.from, part.count, opts.heldExpires), '-key', 'wp', `h${i}x`,
      '-m', String(part.count), '-r', String(opts.heldFillRate), '-l', String(part.count + 100),
      '-recv_timeout', '30000', '-timeout', `${lifeS}s`, '-trace_logs',
    ]);
    runs.push(run);
    while (Date.now() < deadline && run.alive() && run.countLog('SUB') < part.count) await sleep(250);
    filled = sum(runs, (r) => r.countLog('SUB'));
    if (filled < part.from + part.count) break;
  }
  return { runs, filled, fillS: Math.round((Date.now() - t0) / 100) / 10 };
}

/** heldPrime subscriptions made and ended again on the running target (bounded); returns how many completed. */
async function prime(ctx: RunContext, target: Target, transport: Transport, name: string): Promise<number> {
  const { opts } = ctx;
  if (opts.heldPrime === 0) return 0;
  const s = Math.ceil(opts.heldPrime / opts.heldFillRate);
  const sipp = await ctx.sipp(target, name, 'subscribe-unsubscribe.xml', transport, [
    '-inf', extensionsCsv(ctx.outDir, 1000), '-key', 'wp', 'u',
    '-m', String(opts.heldPrime), '-r', String(opts.heldFillRate), '-l', '5000',
    '-recv_timeout', '10000', '-timeout', `${s * 3 + 30}s`,
  ]);
  const out = await sipp.wait((s * 3 + 40) * 1000);
  return out.stats.success;
}

/** A fresh server holding `held` subscriptions, one subscribe.xml step at `rate`, the server stopped. */
async function heldStep(ctx: RunContext, target: Target, transport: Transport, rep: number, held: number, rate: number, what: string): Promise<HeldStepResult> {
  const { opts } = ctx;
  const tag = `held-${what}-${transport}-rep${rep}-h${held}-r${rate}`;
  const noiseBefore = await ctx.noiseGate();
  await target.start(tag);
  let session: HeldSession = { runs: [], filled: 0, fillS: 0 };
  try {
    const primed = await prime(ctx, target, transport, `${tag}-prime`);
    session = await hold(ctx, target, transport, `${tag}-hold`, held);
    ctx.log(`  ${target.label} held ${transport}: primed ${primed}/${opts.heldPrime}, ${session.filled}/${held} held after ${session.fillS}s`);
    await sleep(opts.heldSettleS * 1000);
    const runs = session.runs;
    const ref0 = sum(runs, (r) => r.countLog('REF'));
    const bad0 = heldTroubleCount(runs);
    const w0 = Date.now();
    const res = await measureSubscribeRate(ctx, target, transport, tag, rate, 'r', noiseBefore);
    // sipp writes its statistics once a second (-fd 1): let the line covering the step's end be written.
    if (runs.length) await sleep(1500);
    const refreshes = sum(runs, (r) => r.countLog('REF')) - ref0;
    const refreshWindowS = (Date.now() - w0) / 1000;
    // CPU at rest after the step, as the fan-out step measures it: our server runs its deferred warm-up
    // (src/main.ts, startWarmUp) in the first quiet moment, the pause before the step (188-366 ms/s there with
    // 2,000 held; 18-20 ms/s with PISTON_WARM_UP_ROUNDS=0).
    const rest = new CpuWindow(target);
    await sleep(REST_S * 1000);
    const r = rest.end();
    const holdingCpuMsPerS = r.wallS > 0 ? round((r.serverS * 1000) / r.wallS, 1) : null;
    const heldTroubles = Math.max(0, heldTroubleCount(runs) - bad0);
    const why = res.why ? [res.why] : [];
    if (session.filled < held) why.push(`held ${session.filled}/${held}`);
    if (primed < opts.heldPrime) why.push(`primed ${primed}/${opts.heldPrime}`);
    if (runs.some((r) => !r.alive())) why.push('a held sipp ended early');
    if (heldTroubles > 0) why.push(`held troubles=${heldTroubles}`);
    const out: HeldStepResult = {
      ...res, pass: why.length === 0, why: why.join(', '),
      held, primed, heldFilled: session.filled, fillS: session.fillS, refreshes, refreshWindowS,
      refreshesPerSPlanned: Math.round(refreshesPerS(heldSchedule(held, opts.heldExpires)) * 10) / 10,
      heldTroubles, holdingCpuMsPerS,
    };
    ctx.record({ test: 'held_step', what, target: target.label, transport, rep, ...out });
    ctx.log(
      `  ${target.label} held ${what} ${transport} r=${rate} with ${session.filled} held: ${describeRateStep(out, opts.rateDurationS)} ` +
        `refreshes=${refreshes} (planned ${out.refreshesPerSPlanned}/s) held-troubles=${heldTroubles} cpu-at-rest-after=${holdingCpuMsPerS}ms/s`,
    );
    return out;
  } finally {
    // Together: each sipp takes a few seconds to write its last statistics and exit.
    await Promise.all(session.runs.map((r) => r.stopNow()));
    await target.stop();
  }
}

const perS = (s: HeldStepResult | undefined): number | null =>
  s && s.refreshWindowS > 0 ? Math.round((s.refreshes / s.refreshWindowS) * 10) / 10 : null;

/** The rate step's search, every step on a fresh server holding heldSubs refreshing subscriptions. */
export async function heldRateSearch(ctx: RunContext, target: Target, transport: Transport, rep: number): Promise<HeldRateResult> {
  const held = ctx.opts.heldSubs;
  const { steps, lo, hi } = await searchMaxRate(ctx.opts, (r) => heldStep(ctx, target, transport, rep, held, r, 'search'));
  const best = steps.find((s) => s.pass && s.rate === lo);
  const res: HeldRateResult = {
    target: target.label, transport, rep, held, maxRate: lo, firstFail: hi,
    achievedCps: best && best.durationS > 0 ? Math.round(best.success / best.durationS) : null,
    cpuUsPerSub: best?.cpuUsPerSub ?? null,
    refreshesPerS: perS(best),
    steps,
  };
  ctx.record({ test: 'held_rate_max', ...res, steps: undefined });
  ctx.log(`${target.label} held rate ${transport} rep${rep} with ${held} held: max sustained ${lo}/s (first failing step ${hi ?? 'none'}), ${res.cpuUsPerSub} us CPU/sub, ${res.refreshesPerS} refreshes/s`);
  return res;
}

/** CPU per new subscription at heldRate for each of heldPoints held. */
export async function heldCpuCurve(ctx: RunContext, target: Target, transport: Transport, rep: number): Promise<HeldCpuPoint[]> {
  const out: HeldCpuPoint[] = [];
  for (const held of ctx.opts.heldPoints) {
    const step = await heldStep(ctx, target, transport, rep, held, ctx.opts.heldRate, 'cpu');
    const p: HeldCpuPoint = {
      target: target.label, transport, rep, held, rate: ctx.opts.heldRate, pass: step.pass,
      cpuUsPerSub: step.cpuUsPerSub, refreshesPerS: perS(step), step,
    };
    ctx.record({ test: 'held_cpu', ...p, step: undefined });
    out.push(p);
  }
  ctx.log(`${target.label} held CPU ${transport} rep${rep} at ${ctx.opts.heldRate}/s: ${out.map((p) => `${p.held} held ${p.cpuUsPerSub} us/sub${p.pass ? '' : ' (FAIL)'}`).join(', ')}`);
  return out;
}
