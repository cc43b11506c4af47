import { copyFileSync, rmSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync, closeSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ProcessRegistry } from './process-registry.js';
import { cpuTicks, CLK_TCK, isAlive, udpDrops } from './proc-stats.js';
import { readSippStats, type SippStats } from './sipp-stats.js';
import type { Transport } from './options.js';
import { repoRoot } from './targets.js';
import { sleep } from './sleep.js';

/**
 * One SIPp process: started in its own folder under the run's output directory (SIPp writes its trace files next to
 * the scenario, so the scenario is copied there), bounded by a deadline after which it is stopped by PID.
 */

export const scenarioDir = join(repoRoot, 'bench', 'scenarios');

export interface SippSpec {
  name: string;
  scenario: string;
  host: string;
  port: number;
  transport: Transport;
  localPort: number;
  args: string[];
  /** A socket (UDP) or connection (TCP) per call instead of one for all. */
  socketPerCall?: boolean;
}

export interface SippOutcome {
  exitCode: number | null;
  abortedEarly: boolean;
  overran: boolean;
  cpuS: number;
  /** Kernel drops on sipp's own UDP socket (receive buffer full) while it ran. */
  socketDrops: number;
  stats: SippStats;
}

export class SippRun {
  readonly dir: string;
  readonly pid: number;
  private readonly exited: Promise<number | null>;
  private cpuLast = 0;
  private dropsStart: number;
  private dropsLast = 0;

  constructor(
    private readonly registry: ProcessRegistry,
    private readonly spec: SippSpec,
    outDir: string,
  ) {
    this.dir = join(outDir, 'sipp', spec.name);
    // A run's logs are read while it runs (countLog): logs left by an earlier run into the same --out folder would be
    // counted as this one's (a fill seen as done at once, its publish phase started on a half-filled server).
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    copyFileSync(join(scenarioDir, spec.scenario), join(this.dir, spec.scenario));
    const args = [
      `${spec.host}:${spec.port}`,
      '-sf', spec.scenario,
      '-i', '127.0.0.1',
      '-p', String(spec.localPort),
      '-t', `${spec.transport === 'udp' ? 'u' : 't'}${spec.socketPerCall ? 'n' : '1'}`,
      // SIPp refuses to start when its socket cap (50,000) exceeds the open-file limit (20,000 here).
      ...(spec.socketPerCall ? ['-max_socket', '16000'] : []),
      '-nd', '-aa', '-nostdin',
      '-buff_size', '4194304',
      '-trace_stat', '-stf', 'stat.csv', '-fd', '1',
      '-trace_counts', '-trace_err',
      ...spec.args,
    ];
    writeFileSync(join(this.dir, 'cmd.txt'), ['sipp', ...args].join(' ') + '\n');
    const out = openSync(join(this.dir, 'screen.log'), 'w');
    this.dropsStart = spec.transport === 'udp' ? udpDrops(spec.localPort) : 0;
    const { child, exited } = registry.spawn('sipp', args, { cwd: this.dir, stdio: ['ignore', out, out] }, 'sipp');
    closeSync(out);
    this.pid = child.pid!;
    this.exited = exited;
  }

  private sample(): void {
    const c = cpuTicks([this.pid]);
    if (c > 0) this.cpuLast = c;
    if (this.spec.transport === 'udp') this.dropsLast = Math.max(this.dropsLast, udpDrops(this.spec.localPort) - this.dropsStart);
  }

  /** Lines written so far to the -trace_logs file that start with `prefix` (read incrementally). */
  private logOffset = 0;
  private logCounts = new Map<string, number>();
  private logRest = '';
  countLog(prefix: string): number {
    const f = this.logFile();
    if (f) {
      const size = statSync(f).size;
      if (size > this.logOffset) {
        const fd = openSync(f, 'r');
        const buf = Buffer.alloc(size - this.logOffset);
        readSync(fd, buf, 0, buf.length, this.logOffset);
        closeSync(fd);
        this.logOffset = size;
        const text = this.logRest + buf.toString('latin1');
        const lines = text.split('\n');
        this.logRest = lines.pop() ?? '';
        for (const l of lines) {
          const sp = l.indexOf(' ');
          const key = sp > 0 ? l.slice(0, sp) : l;
          this.logCounts.set(key, (this.logCounts.get(key) ?? 0) + 1);
        }
      }
    }
    return this.logCounts.get(prefix) ?? 0;
  }

  logFile(): string | null {
    const f = readdirSync(this.dir).find((n) => n.endsWith('_logs.log'));
    return f ? join(this.dir, f) : null;
  }

  get localPort(): number {
    return this.spec.localPort;
  }

  alive(): boolean {
    return isAlive(this.pid);
  }

  /**
   * Waits for sipp to end, at most maxMs (then it is stopped). With abortOnFailure, it is stopped as soon as its
   * periodic statistics show a failed call, a retransmission or a dead-call message: the step has failed anyway.
   */
  async wait(maxMs: number, abortOnFailure = false): Promise<SippOutcome> {
    const deadline = Date.now() + maxMs;
    let abortedEarly = false;
    let overran = false;
    let n = 0;
    while (this.alive()) {
      this.sample();
      n++;
      if (abortOnFailure && n % 5 === 0 && this.failingNow()) {
        abortedEarly = true;
        await sleep(1200); // one more statistics line
        await this.registry.stop(this.pid, 'SIGTERM', 1500);
        break;
      }
      if (Date.now() > deadline) {
        overran = true;
        await this.stopNow();
        break;
      }
      await sleep(200);
    }
    const exitCode = await this.exited;
    return this.outcome(exitCode, abortedEarly, overran);
  }

  /** Ends a sipp whose calls never end by themselves (SIGUSR1: sipp stops and writes its final statistics). */
  async stopNow(): Promise<SippOutcome> {
    this.sample();
    // Calls still open when sipp is told to quit may be counted as failed in its last statistics line: keep the
    // periodic line written (-fd 1) before the stop as the verdict.
    const before = readSippStats(this.dir);
    if (this.alive()) {
      try {
        process.kill(this.pid, 'SIGUSR1');
      } catch {
        // already gone
      }
      const t = Date.now() + 4000;
      while (this.alive() && Date.now() < t) await sleep(100);
      if (this.alive()) await this.registry.stop(this.pid, 'SIGTERM', 2000);
    }
    const exitCode = await this.exited;
    const o = this.outcome(exitCode, false, false);
    return before.found ? { ...o, stats: before } : o;
  }

  private outcome(exitCode: number | null, abortedEarly: boolean, overran: boolean): SippOutcome {
    // Overloaded runs write hundreds of MB of errors: keep the first MiB.
    for (const n of readdirSync(this.dir)) {
      const f = join(this.dir, n);
      if ((n.endsWith('_errors.log') || n === 'screen.log') && statSync(f).size > 1 << 20) truncateSync(f, 1 << 20);
    }
    return {
      exitCode,
      abortedEarly,
      overran,
      cpuS: this.cpuLast / CLK_TCK,
      socketDrops: this.dropsLast,
      stats: readSippStats(this.dir),
    };
  }

  private failingNow(): boolean {
    const f = join(this.dir, 'stat.csv');
    if (!existsSync(f)) return false;
    const rows = readFileSync(f, 'latin1').trim().split('\n');
    if (rows.length < 2) return false;
    const h = rows[0]!.split(';');
    const last = rows[rows.length - 1]!.split(';');
    const v = (k: string): number => Number(last[h.indexOf(k)] ?? 0) || 0;
    return v('FailedCall(C)') > 0 || v('Retransmissions(C)') > 0 || v('DeadCallMsgs(C)') > 0;
  }
}

export function extensionsCsv(outDir: string, count: number): string {
  const f = resolve(outDir, `ext${count}.csv`);
  if (!existsSync(f)) {
    const lines = ['SEQUENTIAL'];
    for (let i = 0; i < count; i++) lines.push(`${1000 + i};`);
    writeFileSync(f, lines.join('\n') + '\n');
  }
  return f;
}
