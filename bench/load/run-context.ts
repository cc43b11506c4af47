import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions, Transport } from './options.js';
import type { ProcessRegistry } from './process-registry.js';
import { CLK_TCK, machineBusyTicks } from './proc-stats.js';
import { freePort } from './net-probe.js';
import { SippRun, type SippSpec } from './sipp-run.js';
import type { Target } from './targets.js';
import { sleep } from './sleep.js';

/** What every step gets: options, the process registry, the output folder, a log and the results file. */
export class RunContext {
  private readonly resultsFile: string;

  constructor(
    readonly opts: BenchOptions,
    readonly registry: ProcessRegistry,
    readonly outDir: string,
  ) {
    this.resultsFile = join(outDir, 'results.jsonl');
  }

  log(msg: string): void {
    const line = `[${new Date().toISOString().slice(11, 19)}] ${msg}`;
    process.stderr.write(line + '\n');
    appendFileSync(join(this.outDir, 'bench.log'), line + '\n');
  }

  record(rec: Record<string, unknown>): void {
    appendFileSync(this.resultsFile, JSON.stringify(rec) + '\n');
  }

  async sipp(target: Target, name: string, scenario: string, transport: Transport, args: string[]): Promise<SippRun> {
    const spec: SippSpec = {
      name: `${target.label}-${name}`.replace(/[^a-z0-9.-]+/gi, '_'),
      scenario,
      host: target.host,
      port: target.port,
      transport,
      localPort: await freePort(),
      args,
      socketPerCall: this.opts.sippSocketPerCall,
    };
    return new SippRun(this.registry, spec, this.outDir);
  }

  /**
   * Noise gate: the machine is shared, so before a measurement wait (bounded) until other processes use at most
   * noiseMaxCores. Returns the cores in use during the last 1 s sample.
   */
  async noiseGate(): Promise<number> {
    const end = Date.now() + this.opts.noiseWaitS * 1000;
    for (;;) {
      const a = machineBusyTicks();
      await sleep(1000);
      const cores = (machineBusyTicks() - a) / CLK_TCK;
      if (cores <= this.opts.noiseMaxCores || Date.now() >= end) return Math.round(cores * 100) / 100;
      await sleep(1000);
    }
  }
}

/** CPU of the server and of the whole machine between two moments. */
export class CpuWindow {
  private readonly t0 = Date.now();
  private readonly s0: number;
  private readonly m0 = machineBusyTicks();

  constructor(private readonly target: Target) {
    this.s0 = target.cpuTicks();
  }

  /** serverS: server CPU seconds; otherCores: average cores used by everything but the server and `ownCpuS`. */
  end(ownCpuS = 0): { serverS: number; wallS: number; otherCores: number } {
    const serverS = (this.target.cpuTicks() - this.s0) / CLK_TCK;
    const wallS = (Date.now() - this.t0) / 1000;
    const machine = (machineBusyTicks() - this.m0) / CLK_TCK;
    const other = Math.max(0, machine - serverS - ownCpuS) / Math.max(wallS, 0.001);
    return { serverS: round(serverS, 3), wallS: round(wallS, 3), otherCores: round(other, 2) };
  }
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Smallest and largest of `xs`, by a loop: spreading a burst's 100,000+ log times into Math.min/max overflows the stack. */
export function extent(xs: Iterable<number>): { min: number; max: number } | null {
  let min = Infinity;
  let max = -Infinity;
  let any = false;
  for (const x of xs) {
    any = true;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return any ? { min, max } : null;
}

export function median(xs: (number | null | undefined)[]): number | null {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const k = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(k);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (k - lo);
}
