/**
 * Load suite (issue 5): SIPp against our server, optionally side by side with a reference (Kamailio 5.6 with the
 * shared presence configuration, or any host:port) in the same invocation. Prints a table with ratios against the
 * issue's targets; raw SIPp output and results.jsonl stay in the output folder.
 *   npm run bench -- [--quick] [--vs kamailio] [--only rate,fanout,memory,restart,storm,held] [--reps N] [--target host:port]
 * Every process it starts is stopped by PID at the end, on errors and on Ctrl-C.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOptions, type BenchOptions } from './load/options.js';
import { ProcessRegistry } from './load/process-registry.js';
import { RunContext } from './load/run-context.js';
import { makeTarget, type Target } from './load/targets.js';
import { rateSearch } from './load/steps/rate.js';
import { fanoutRun } from './load/steps/fanout.js';
import { memoryRun } from './load/steps/memory.js';
import { restartRun } from './load/steps/restart.js';
import { stormRun } from './load/steps/storm.js';
import { authRateSearch, idleConnRun, streamRateSearch, tlsHandshakeRun } from './load/steps/tw.js';
import { heldCpuCurve, heldRateSearch } from './load/steps/held.js';
import { KamailioTwTarget } from './load/tw-targets.js';
import { buildReport, type AllResults } from './load/report.js';
import { clusterReport, clusterRun } from './load/steps/cluster.js';

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, cmd)));
}

/** First non-empty line a program prints for its version (sipp -v exits non-zero, so stdout is read either way). */
function version(cmd: string, args: string[]): string {
  if (!onPath(cmd)) return 'not found';
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const text = `${r.stdout?.toString() ?? ''}\n${r.stderr?.toString() ?? ''}`;
  return text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
}

function machine(): Record<string, unknown> {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
  return {
    nproc: cpus().length,
    cpu: model,
    memTotalGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    memFreeGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    sipp: version('sipp', ['-v']).replace(/^\s*/, ''),
    kamailio: version('kamailio', ['-v']),
    loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
    when: new Date().toISOString(),
  };
}

async function runAll(opts: BenchOptions, ctx: RunContext, ours: Target, ref: Target | null): Promise<AllResults> {
  const res: AllResults = { rate: [], fanout: [], memory: [], restart: [], storm: [], tw: { rate: [], idle: [], handshakes: [] }, held: { rate: [], cpu: [] }, cluster: [] };
  // The TLS/WS/auth steps need Kamailio with bench/kamailio/kamailio-tw.cfg rather than the shared configuration.
  const twTargets = ref ? [ours, ref.kind === 'kamailio' ? new KamailioTwTarget(ctx.registry, ctx.outDir) : ref] : [ours];
  const targets = ref ? [ours, ref] : [ours];
  const guarded = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      ctx.log(`step ${what} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  };
  const has = (s: string): boolean => opts.steps.includes(s as BenchOptions['steps'][number]);
  for (let rep = 1; rep <= opts.reps; rep++) {
    if (has('rate')) {
      for (const tr of opts.transports) {
        for (const t of targets) await guarded(`rate ${t.label} ${tr}`, async () => void res.rate.push(await rateSearch(ctx, t, tr, rep)));
      }
    }
    if (has('fanout')) {
      for (const tr of opts.transports) {
        for (const pr of opts.fanPublishRates) {
          for (const t of targets) {
            await guarded(`fan-out ${pr}/s ${t.label} ${tr}`, async () => {
              res.fanout.push(await fanoutRun(ctx, t, tr, rep, {
                label: `${pr}/s`, subs: opts.fanSubs, resources: opts.fanResources, publishRate: pr,
                fillRate: opts.fanFillRate, gapMs: opts.publishGapMs,
              }));
            });
          }
        }
        // --burst-watchers 0 leaves the burst out.
        for (const t of opts.burstWatchers > 0 ? targets : []) {
          await guarded(`fan-out burst ${t.label} ${tr}`, async () => {
            res.fanout.push(await fanoutRun(ctx, t, tr, rep, {
              label: 'burst', subs: opts.burstWatchers * opts.fanResources, resources: opts.fanResources,
              publishRate: opts.burstPublishRate, fillRate: opts.burstFillRate, gapMs: opts.burstGapMs,
            }));
          });
        }
      }
    }
    const handOver = new Map<Target, number>();
    if (has('memory')) {
      for (const t of targets) {
        const keep = has('restart') && t.canRestart && Math.max(...opts.memoryPoints) >= opts.restartSubs;
        await guarded(`memory ${t.label}`, async () => {
          const m = await memoryRun(ctx, t, rep, keep);
          res.memory.push(m.result);
          if (m.running) handOver.set(t, m.filled);
        });
      }
    }
    if (has('restart')) {
      for (const t of targets) {
        if (!t.canRestart) {
          ctx.log(`restart: ${t.label} skipped (${t.kind === 'kamailio' ? 'its configuration keeps subscriptions in memory only' : 'not started by the runner'})`);
          continue;
        }
        await guarded(`restart ${t.label}`, async () => void res.restart.push(await restartRun(ctx, t, rep, handOver.get(t) ?? null)));
      }
    }
    if (has('storm')) {
      for (const t of targets) await guarded(`storm ${t.label}`, async () => void res.storm.push(await stormRun(ctx, t, rep)));
    }
    for (const kind of ['tls', 'ws'] as const) {
      if (!has(`${kind}-rate`)) continue;
      for (const t of twTargets) await guarded(`${kind}-rate ${t.label}`, async () => void res.tw.rate.push(await streamRateSearch(ctx, t, kind, rep)));
    }
    if (has('idle-conns')) {
      for (const kind of opts.idleKinds) {
        for (const t of twTargets) await guarded(`idle-conns ${kind} ${t.label}`, async () => void res.tw.idle.push(await idleConnRun(ctx, t, kind, rep)));
      }
    }
    if (has('tls-handshakes')) {
      for (const t of twTargets) await guarded(`tls-handshakes ${t.label}`, async () => void res.tw.handshakes.push(await tlsHandshakeRun(ctx, t, rep)));
    }
    if (has('auth-rate')) {
      for (const t of twTargets) await guarded(`auth-rate ${t.label}`, async () => void res.tw.rate.push(await authRateSearch(ctx, t, rep)));
    }
    // Ours only: the reference of the cluster is our single node, run inside the step.
    for (const rate of has('cluster') && ours.managed ? opts.clusterRates : []) {
      await guarded(`cluster ${rate}/s`, async () => {
        res.cluster.push(await clusterRun(ctx, rep, {
          nodes: opts.clusterNodes, subsPerNode: opts.clusterSubsPerNode, resources: opts.fanResources, publishRate: rate,
          fillRate: opts.fanFillRate, gapMs: opts.publishGapMs,
        }));
      });
    }
    if (has('held')) {
      for (const tr of opts.transports) {
        if (opts.heldParts.includes('search')) {
          for (const t of targets) await guarded(`held rate ${t.label} ${tr}`, async () => void res.held.rate.push(await heldRateSearch(ctx, t, tr, rep)));
        }
        if (opts.heldParts.includes('cpu')) {
          for (const t of targets) await guarded(`held cpu ${t.label} ${tr}`, async () => void res.held.cpu.push(...(await heldCpuCurve(ctx, t, tr, rep))));
        }
      }
    }
  }
  return res;
}

async function main(): Promise<void> {
  let opts: BenchOptions;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  if (!onPath('sipp')) {
    process.stderr.write('sipp is not on the PATH (apt-get install -y sip-tester)\n');
    process.exit(2);
  }
  if (opts.vs?.kind === 'kamailio' && !onPath('kamailio')) {
    process.stderr.write('kamailio is not installed (apt-get install -y kamailio kamailio-presence-modules)\n');
    process.exit(2);
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const outDir = opts.outDir ?? mkdtempSync(join(tmpdir(), `piston-bench-${stamp}-`));
  mkdirSync(outDir, { recursive: true });
  const registry = new ProcessRegistry();
  const onSignal = (sig: string): void => {
    process.stderr.write(`\n${sig}: stopping every process this run started\n`);
    registry.killAllNow();
    process.exit(130);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('exit', () => registry.killAllNow());

  const ctx = new RunContext(opts, registry, outDir);
  const ours = makeTarget(opts.target, registry, outDir, { cpuProfDir: opts.cpuProfDir, nodeArgs: opts.serverNodeArgs, env: opts.serverEnv, processes: opts.oursProcesses });
  const ref = opts.vs ? makeTarget(opts.vs, registry, outDir) : null;
  const meta = { test: 'meta', argv: process.argv.slice(2), machine: machine(), options: opts };
  ctx.record(meta);
  ctx.log(`output: ${outDir}; target ${ours.label}${ref ? ` vs ${ref.label}` : ''}; steps ${opts.steps.join(',')}; transports ${opts.transports.join(',')}; reps ${opts.reps}${opts.quick ? ' (quick)' : ''}`);
  ctx.log(`machine: ${JSON.stringify(meta.machine)}`);
  let res: AllResults;
  const t0 = Date.now();
  try {
    res = await runAll(opts, ctx, ours, ref);
  } finally {
    await registry.stopAll();
  }
  const cluster = clusterReport(res.cluster);
  const table = buildReport(opts, res, ours.label, ref?.label ?? null) + (cluster ? `\n\nCluster (issue 22):\n\n${cluster}` : '');
  const summary =
    `Command: npm run bench -- ${process.argv.slice(2).join(' ')}\n` +
    `Machine: ${JSON.stringify(meta.machine)}\n` +
    `Duration: ${Math.round((Date.now() - t0) / 1000)} s; raw output: ${outDir}\n\n${table}\n`;
  writeFileSync(join(outDir, 'summary.md'), summary);
  process.stdout.write('\n' + summary);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
