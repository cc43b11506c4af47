import { readFileSync } from 'node:fs';
import { CpuWindow, extent, round, type RunContext } from '../run-context.js';
import { extensionsCsv, type SippOutcome } from '../sipp-run.js';
import { readSippStats } from '../sipp-stats.js';
import { udpDrops } from '../proc-stats.js';
import type { Target } from '../targets.js';
import { sleep } from '../sleep.js';

/**
 * Reboot storm (UDP): a fresh server gets stormWatchers long-lived watchers (watch-loop.xml, 1,000 extensions) while
 * publish.xml keeps changing line states; then the same watchers re-subscribe with new Call-IDs, evenly within
 * stormWindowS (phones coming back after a reboot), while the state changes go on. Afterwards one more PUBLISH per
 * extension leaves every line busy: every watcher's newest subscription must show it ("stale" counts those that do
 * not). Failures and retransmissions are read from all four sipp runs.
 */

export interface StormResult {
  target: string;
  rep: number;
  watchers: number;
  windowS: number;
  filled: number;
  resubscribed: number;
  /** first -> last re-subscription established */
  stormSpanS: number | null;
  failedCalls: number;
  subscribeRetrans: number;
  notifyRetrans: number;
  /** Before the storm: SUBSCRIBEs re-sent and initial NOTIFYs re-sent while the first subscriptions were made. */
  fillPhaseRetrans: number;
  strayMessages: number;
  publishes: number;
  publishFailed: number;
  publishRetrans: number;
  /** NOTIFYs logged by both watcher runs from the first storm PUBLISH on, and PUBLISHes x watchers per resource. */
  notifiesDuringStorm: number;
  notifiesExpectedIfReplaced: number;
  staleWatchers: number;
  serverSocketDrops: number;
  watcherSocketDrops: number;
  serverCpuS: number;
  otherCores: number;
  clean: boolean;
}

/** Last state seen by each watcher in one watch-loop log: key "<ext> <watcher>" -> confirmed? */
function lastStates(logFile: string | null): Map<string, boolean> {
  const last = new Map<string, boolean>();
  if (!logFile) return last;
  for (const line of readFileSync(logFile, 'latin1').split('\n')) {
    const p = line.trim().split(/\s+/);
    if ((p[0] === 'SUB' || p[0] === 'NOT') && p.length >= 6) last.set(`${p[1]} ${p[2]}`, p[3] === 'c=confirmed');
  }
  return last;
}

function subTimes(logFile: string | null): number[] {
  if (!logFile) return [];
  const out: number[] = [];
  for (const line of readFileSync(logFile, 'latin1').split('\n')) {
    const p = line.trim().split(/\s+/);
    if (p[0] === 'SUB' && p.length >= 6) out.push(Number(p[4]) + Number(p[5]) / 1e6);
  }
  return out;
}

export async function stormRun(ctx: RunContext, target: Target, rep: number): Promise<StormResult> {
  const { opts } = ctx;
  const n = opts.stormWatchers;
  const resources = 1000;
  const csv = extensionsCsv(ctx.outDir, resources);
  const tag = `storm-rep${rep}`;
  await ctx.noiseGate();
  await target.start(tag);
  const runs: { fill?: SippOutcome; storm?: SippOutcome; pub?: SippOutcome; mark?: SippOutcome } = {};
  try {
    const watchArgs = (m: number, rate: number): string[] => [
      '-inf', csv, '-key', 'wp', 's', '-m', String(m), '-r', String(rate), '-l', String(m + 100),
      '-recv_timeout', '30000', '-timeout', `${opts.stormWindowS + Math.ceil(n / opts.stormFillRate) + 300}s`, '-trace_logs',
    ];
    const fill = await ctx.sipp(target, `${tag}-fill`, 'watch-loop.xml', 'udp', watchArgs(n, opts.stormFillRate));
    const fillDeadline = Date.now() + (Math.ceil(n / opts.stormFillRate) * 3 + 30) * 1000;
    while (Date.now() < fillDeadline && fill.alive() && fill.countLog('SUB') < n) await sleep(500);
    const filled = fill.countLog('SUB');
    ctx.log(`  ${target.label} storm: ${filled}/${n} watchers subscribed`);
    await sleep(2000);
    // Retransmissions of the fill itself are reported apart from those during the storm.
    const fillBefore = readSippStats(fill.dir);
    const drops0 = udpDrops(target.port);
    const cpu = new CpuWindow(target);
    const notBefore = fill.countLog('NOT');
    const pubCalls = Math.ceil(opts.stormPublishRate * (opts.stormWindowS + 10));
    const pub = await ctx.sipp(target, `${tag}-pub`, 'publish.xml', 'udp', [
      '-inf', csv, '-m', String(pubCalls), '-r', String(opts.stormPublishRate), '-l', String(pubCalls),
      '-d', '1000', '-recv_timeout', '30000', '-timeout', `${opts.stormWindowS + 120}s`,
    ]);
    await sleep(5000);
    const storm = await ctx.sipp(target, `${tag}-resub`, 'watch-loop.xml', 'udp', watchArgs(n, Math.max(1, Math.round(n / opts.stormWindowS))));
    const stormDeadline = Date.now() + (opts.stormWindowS * 2 + 30) * 1000;
    while (Date.now() < stormDeadline && storm.alive() && storm.countLog('SUB') < n) await sleep(500);
    runs.pub = await pub.wait((opts.stormWindowS + 130) * 1000);
    const mark = await ctx.sipp(target, `${tag}-mark`, 'publish-mark.xml', 'udp', [
      '-inf', csv, '-m', String(resources), '-r', '500', '-l', String(resources), '-recv_timeout', '30000', '-timeout', '60s',
    ]);
    runs.mark = await mark.wait(70_000);
    // Let the last NOTIFYs arrive: stop when the watchers' logs stay still for 2 s (at most 30 s).
    let prev = -1;
    const quietDeadline = Date.now() + 30_000;
    while (Date.now() < quietDeadline) {
      const now = storm.countLog('NOT') + fill.countLog('NOT');
      if (now === prev) break;
      prev = now;
      await sleep(2000);
    }
    const c = cpu.end((runs.pub?.cpuS ?? 0) + (runs.mark?.cpuS ?? 0));
    const drops = udpDrops(target.port) - drops0;
    const wdrops = 0;
    const notifies = fill.countLog('NOT') - notBefore + storm.countLog('NOT');
    const resubscribed = storm.countLog('SUB');
    runs.storm = await storm.stopNow();
    runs.fill = await fill.stopNow();
    const watcherDrops = wdrops + runs.storm.socketDrops + runs.fill.socketDrops;
    const times = subTimes(storm.logFile());
    const span = times.length > 1 ? extent(times) : null;
    const newest = lastStates(storm.logFile());
    let stale = n - newest.size;
    for (const ok of newest.values()) if (!ok) stale++;
    const all = [runs.fill, runs.storm, runs.pub, runs.mark];
    const res: StormResult = {
      target: target.label, rep, watchers: n, windowS: opts.stormWindowS, filled, resubscribed,
      stormSpanS: span ? round(span.max - span.min, 2) : null,
      failedCalls: all.reduce((a, o) => a + (o?.stats.failed ?? 0), 0),
      subscribeRetrans: runs.storm.stats.retransSent + runs.fill.stats.retransSent - fillBefore.retransSent,
      notifyRetrans: runs.storm.stats.retransRecv + runs.fill.stats.retransRecv - fillBefore.retransRecv,
      fillPhaseRetrans: fillBefore.retransSent + fillBefore.retransRecv,
      strayMessages: all.reduce((a, o) => a + (o ? o.stats.outOfCall + o.stats.deadCall + o.stats.autoAnswered + o.stats.unexpected : 0), 0),
      publishes: 2 * (runs.pub?.stats.success ?? 0) + (runs.mark?.stats.success ?? 0),
      publishFailed: (runs.pub?.stats.failed ?? 0) + (runs.mark?.stats.failed ?? 0) + (pubCalls - (runs.pub?.stats.success ?? 0)) + (resources - (runs.mark?.stats.success ?? 0)),
      publishRetrans: (runs.pub?.stats.retransSent ?? 0) + (runs.mark?.stats.retransSent ?? 0),
      notifiesDuringStorm: notifies,
      notifiesExpectedIfReplaced: (2 * (runs.pub?.stats.success ?? 0) + (runs.mark?.stats.success ?? 0)) * (n / resources),
      staleWatchers: stale,
      serverSocketDrops: drops,
      watcherSocketDrops: watcherDrops,
      serverCpuS: c.serverS,
      otherCores: c.otherCores,
      clean: false,
    };
    res.clean = res.filled === n && res.resubscribed === n && res.failedCalls === 0 && res.subscribeRetrans === 0 && res.notifyRetrans === 0 &&
      res.publishFailed === 0 && res.publishRetrans === 0 && res.staleWatchers === 0 && res.strayMessages === 0;
    ctx.record({ test: 'storm', ...res });
    ctx.log(
      `${target.label} storm: ${resubscribed}/${n} re-subscribed over ${res.stormSpanS}s; failed=${res.failedCalls} sub-rtx=${res.subscribeRetrans} ` +
        `notify-rtx=${res.notifyRetrans} fill-phase-rtx=${res.fillPhaseRetrans} stray=${res.strayMessages} publishes=${res.publishes} (failed ${res.publishFailed}, rtx ${res.publishRetrans}) ` +
        `NOTIFYs=${notifies} (${res.notifiesExpectedIfReplaced} if each watcher holds one subscription) stale=${stale} drops srv/watchers=${drops}/${watcherDrops} cpu=${c.serverS}s noise=${c.otherCores}`,
    );
    return res;
  } finally {
    await target.stop();
  }
}
