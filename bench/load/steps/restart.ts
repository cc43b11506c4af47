import { type RunContext } from '../run-context.js';
import type { Target } from '../targets.js';
import { fillSubscriptions } from './memory.js';

/**
 * Restart: with restartSubs subscriptions stored (left by the memory step, or filled here), stop the server with
 * SIGTERM, start it again on the same data directory at log level info, and time spawn -> "ready" log line (and
 * spawn -> first answer to OPTIONS). The "state restored" line says how many subscriptions came back.
 */

export interface RestartResult {
  target: string;
  rep: number;
  stored: number;
  stopMs: number;
  readyMs: number | null;
  sipAnswerMs: number | null;
  restored: number | null;
  restoreMs: number | null;
  memKiBAfter: number | null;
}

export async function restartRun(ctx: RunContext, target: Target, rep: number, alreadyFilled: number | null): Promise<RestartResult> {
  const { opts } = ctx;
  let stored = alreadyFilled ?? 0;
  try {
    if (alreadyFilled === null) {
      await ctx.noiseGate();
      await target.start(`restart-fill-rep${rep}`);
      const f = await fillSubscriptions(ctx, target, `restart-fill-rep${rep}`, 'rsx', opts.restartSubs, opts.restartFillRate);
      stored = f.ok;
      ctx.log(`  ${target.label} restart: ${f.ok} subscriptions filled (${f.failed} failed)`);
    }
    const dataDir = target.dataDir!;
    const stop = await target.stop();
    const info = await target.start(`restart-rep${rep}`, { dataDir, logLevel: 'info' });
    const restoredLine = info.restoredLine ?? {};
    const result: RestartResult = {
      target: target.label, rep, stored, stopMs: stop.stopMs,
      readyMs: info.readyLogMs, sipAnswerMs: info.sipAnswerMs,
      restored: typeof restoredLine.subscriptions === 'number' ? restoredLine.subscriptions : null,
      restoreMs: typeof restoredLine.ms === 'number' ? restoredLine.ms : null,
      memKiBAfter: target.memoryKiB().value,
    };
    ctx.record({ test: 'restart', ...result });
    ctx.log(
      `${target.label} restart with ${stored} stored: ready after ${result.readyMs} ms (OPTIONS answered after ${result.sipAnswerMs} ms), ` +
        `${result.restored} restored in ${result.restoreMs} ms; SIGTERM stop took ${result.stopMs} ms; RSS after ${result.memKiBAfter} KiB`,
    );
    return result;
  } finally {
    await target.stop();
  }
}
