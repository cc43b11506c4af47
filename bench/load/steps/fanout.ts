import type { Transport } from '../options.js';
import { CpuWindow, round, type RunContext } from '../run-context.js';
import { extensionsCsv } from '../sipp-run.js';
import { splitNotifyRetrans } from '../sipp-stats.js';
import { analyseFanout, type WaveFigures } from '../fanout-analysis.js';
import { udpDrops } from '../proc-stats.js';
import { readNotifyLedger, unexplainedMissing } from '../notify-ledger.js';
import type { Target } from '../targets.js';
import { sleep } from '../sleep.js';

/**
 * Fan-out: a fresh server gets `subs` subscriptions (watch-two.xml) spread evenly over `resources` extensions, then
 * publish.xml runs one call per extension at `publishRate` calls/s: PUBLISH confirmed, a gap, PUBLISH terminated.
 * Every watcher must get exactly two NOTIFYs; latency is PUBLISH send time -> NOTIFY arrival at the watcher. The
 * server CPU of the whole publish phase is divided by the NOTIFYs expected (2 x subs).
 */

export interface FanoutResult {
  target: string;
  transport: Transport;
  rep: number;
  label: string;
  subs: number;
  resources: number;
  publishRate: number;
  established: number;
  expectedNotifies: number;
  receivedNotifies: number;
  /** NOTIFYs neither seen nor coalesced (notify-ledger.ts); a watcher with a wrong lamp at the end is in wrongLamps. */
  lostNotifies: number;
  /** Watchers whose two changes came as one NOTIFY showing the end (RFC 6665 §4.2.2; not a loss). */
  coalescedNotifies: number;
  wrongLamps: number;
  /** Fan-out phase: NOTIFYs the server re-sent (seen by the watchers, in or after the call) and PUBLISHes sipp re-sent. */
  notifyRetrans: number;
  /** Subscribe (fill) phase: SUBSCRIBEs re-sent by sipp plus initial NOTIFYs re-sent by the server. */
  fillRetrans: number;
  publishRetrans: number;
  failedCalls: number;
  serverSocketDrops: number;
  watcherSocketDrops: number;
  serverCpuS: number;
  cpuUsPerNotify: number | null;
  /** Server CPU at rest, ms per second, over the 3 s after the last NOTIFY (10 ms resolution). */
  restCpuMsPerS: number;
  otherCores: number;
  memKiBAtSubs: number | null;
  waves: Record<'confirmed' | 'terminated', WaveFigures>;
  /** NOTIFY/s of the busier wave (first PUBLISH -> last NOTIFY of that wave). */
  notifyPerS: number | null;
  clean: boolean;
}

export interface FanoutPlan {
  label: string;
  subs: number;
  resources: number;
  publishRate: number;
  fillRate: number;
  gapMs: number;
}

export async function fanoutRun(ctx: RunContext, target: Target, transport: Transport, rep: number, plan: FanoutPlan): Promise<FanoutResult> {
  const csv = extensionsCsv(ctx.outDir, plan.resources);
  const tag = `fanout-${plan.label.replace(/[^a-z0-9]+/gi, "")}-${transport}-rep${rep}`;
  await ctx.noiseGate();
  await target.start(tag);
  try {
    const fillS = Math.ceil(plan.subs / plan.fillRate);
    // Every watcher waits for its NOTIFYs: the fill, the publish window, the gap and a margin.
    const waitMs = (fillS + 60) * 1000 + plan.gapMs + Math.ceil((plan.resources / plan.publishRate) * 1000) + 60_000;
    const watchers = await ctx.sipp(target, `${tag}-watch`, 'watch-two.xml', transport, [
      '-inf', csv, '-key', 'wp', 'f',
      '-m', String(plan.subs), '-r', String(plan.fillRate), '-l', String(plan.subs + 100),
      '-recv_timeout', String(waitMs), '-timeout', `${Math.ceil(waitMs / 1000) + 60}s`, '-trace_logs',
    ]);
    const fillDeadline = Date.now() + (fillS * 3 + 30) * 1000;
    let established = 0;
    while (Date.now() < fillDeadline && watchers.alive()) {
      established = watchers.countLog('SUB');
      if (established >= plan.subs) break;
      await sleep(500);
    }
    established = watchers.countLog('SUB');
    ctx.log(`  ${target.label} fan-out ${plan.label} ${transport}: ${established}/${plan.subs} subscriptions established`);
    await sleep(3000);
    const memKiBAtSubs = target.memoryKiB().value;
    const drops0 = transport === 'udp' ? udpDrops(target.port) : 0;
    const wdrops0 = transport === 'udp' ? udpDrops(watchers.localPort) : 0;
    const cpu = new CpuWindow(target);
    const pub = await ctx.sipp(target, `${tag}-pub`, 'publish.xml', transport, [
      '-inf', csv, '-m', String(plan.resources), '-r', String(plan.publishRate), '-l', String(plan.resources),
      '-d', String(plan.gapMs), '-recv_timeout', '30000', '-timeout', '300s', '-trace_logs',
    ]);
    const pubOut = await pub.wait(320_000);
    const expected = 2 * established;
    const drainDeadline = Date.now() + 120_000;
    while (Date.now() < drainDeadline && watchers.alive() && watchers.countLog('NOT') < expected) await sleep(250);
    const c = cpu.end(pubOut.cpuS);
    // What the server burns at rest with its subscriptions (timers, metrics sampling), measured after the step rather
    // than in the pause before it: our server runs its deferred warm-up in that pause (src/main.ts, startWarmUp).
    const rest = new CpuWindow(target);
    await sleep(3000);
    const r = rest.end();
    const restCpuMsPerS = round((r.serverS * 1000) / r.wallS, 1);
    const drops = transport === 'udp' ? udpDrops(target.port) - drops0 : 0;
    const wdrops = transport === 'udp' ? udpDrops(watchers.localPort) - wdrops0 : 0;
    const wOut = await watchers.wait(30_000);
    const received = watchers.countLog('NOT');
    const ledger = readNotifyLedger(watchers.logFile()!);
    const waves = analyseFanout(pub.logFile()!, watchers.logFile()!, plan.subs / plan.resources);
    const ws = wOut.stats;
    const ps = pubOut.stats;
    const split = splitNotifyRetrans(ws, 2);
    const rates = [waves.confirmed.notifyPerS, waves.terminated.notifyPerS].filter((x): x is number => x !== null);
    const res: FanoutResult = {
      target: target.label, transport, rep, label: plan.label, subs: plan.subs, resources: plan.resources,
      publishRate: plan.publishRate, established,
      expectedNotifies: 2 * plan.subs, receivedNotifies: received,
      // Watchers that never subscribed count as two lost NOTIFYs each, as before.
      lostNotifies: unexplainedMissing(ledger) + 2 * Math.max(0, plan.subs - ledger.watchers),
      coalescedNotifies: ledger.coalesced, wrongLamps: ledger.stale + ledger.none,
      notifyRetrans: split.lastNotifies + ws.deadCall + ws.autoAnswered,
      fillRetrans: split.rest,
      publishRetrans: Math.max(ps.retransSent, ps.retransStat),
      failedCalls: ws.failed + ps.failed,
      serverSocketDrops: drops, watcherSocketDrops: wdrops,
      serverCpuS: c.serverS,
      cpuUsPerNotify: received > 0 ? round((c.serverS * 1e6) / (2 * plan.subs), 1) : null,
      restCpuMsPerS, otherCores: c.otherCores, memKiBAtSubs, waves,
      notifyPerS: rates.length ? Math.max(...rates) : null,
      clean: false,
    };
    res.clean = res.lostNotifies === 0 && res.wrongLamps === 0 && res.notifyRetrans === 0 && res.publishRetrans === 0 && res.failedCalls === 0 && established === plan.subs;
    ctx.record({ test: 'fanout', ...res });
    const w = (x: WaveFigures): string => `n=${x.notifies}/${x.expected} span=${x.spanMs}ms ${x.notifyPerS}/s p50/p99/max=${x.p50Ms}/${x.p99Ms}/${x.maxMs}ms`;
    ctx.log(
      `  ${target.label} fan-out ${plan.label} ${transport}: confirmed ${w(waves.confirmed)}; terminated ${w(waves.terminated)}; ` +
        `lost=${res.lostNotifies} coalesced=${res.coalescedNotifies} wrong-lamps=${res.wrongLamps} notify-rtx=${res.notifyRetrans} fill-rtx=${res.fillRetrans} publish-rtx=${res.publishRetrans} failed=${res.failedCalls} ` +
        `drops srv/watchers=${drops}/${wdrops} cpu=${c.serverS}s (${res.cpuUsPerNotify} us/NOTIFY) at-rest=${restCpuMsPerS}ms/s noise=${c.otherCores}`,
    );
    return res;
  } finally {
    await target.stop();
  }
}

