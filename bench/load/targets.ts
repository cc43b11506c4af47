import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, truncateSync, createWriteStream } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { ProcessRegistry } from './process-registry.js';
import { cpuTicks, descendants, isAlive, pidOfUdpPort, pssRssKiB, rssKiB } from './proc-stats.js';
import { freePort, waitForSip } from './net-probe.js';
import type { TargetSpec } from './options.js';
import { sleep } from './sleep.js';

/**
 * The servers under test. Ours and Kamailio are started fresh by the runner (a new data dir / db_text copy and a
 * free port each time) and stopped by PID; an external host:port is only measured, never started or stopped.
 */

export const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
export const kamailioDir = resolve(repoRoot, '..', 'shared', 'bench', 'kamailio', 'kamailio');

export interface StartOptions {
  /** Reuse this data directory (restart step); otherwise a fresh one. */
  dataDir?: string;
  logLevel?: string;
  /** Extra arguments for node in front of the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  env?: Record<string, string>;
}

export interface StartInfo {
  /** ms from spawn to the "ready" log line (ours at log level info) and to the first OPTIONS answer. */
  readyLogMs: number | null;
  sipAnswerMs: number | null;
  /** Parsed JSON of our "state restored" line, when seen. */
  restoredLine?: Record<string, unknown>;
}

export interface Target {
  readonly label: string;
  readonly kind: TargetSpec['kind'];
  readonly host: string;
  port: number;
  /** Whether start() really gives a fresh server (false for an external one: its state builds up). */
  readonly managed: boolean;
  readonly canRestart: boolean;
  dataDir: string | null;
  start(tag: string, opts?: StartOptions): Promise<StartInfo>;
  stop(): Promise<{ exitCode: number | null; stopMs: number }>;
  /** Server process and its descendants (empty when unknown). */
  pids(): number[];
  cpuTicks(): number;
  /** The figure compared across servers: RSS for ours (one process), PSS summed over processes for Kamailio. */
  memoryKiB(): { value: number | null; what: string; rssSumKiB: number | null };
}

export abstract class ManagedTarget implements Target {
  abstract readonly label: string;
  abstract readonly kind: TargetSpec['kind'];
  readonly host = '127.0.0.1';
  port = 0;
  readonly managed = true;
  abstract readonly canRestart: boolean;
  dataDir: string | null = null;
  protected pid: number | null = null;
  protected kids: number[] = [];

  constructor(
    protected readonly registry: ProcessRegistry,
    protected readonly outDir: string,
  ) {}

  abstract start(tag: string, opts?: StartOptions): Promise<StartInfo>;

  pids(): number[] {
    if (this.pid === null || !isAlive(this.pid)) return [];
    const d = descendants(this.pid);
    return [this.pid, ...d];
  }

  cpuTicks(): number {
    return cpuTicks(this.pids());
  }

  abstract memoryKiB(): { value: number | null; what: string; rssSumKiB: number | null };

  async stop(): Promise<{ exitCode: number | null; stopMs: number }> {
    if (this.pid === null) return { exitCode: null, stopMs: 0 };
    const pid = this.pid;
    this.registry.recordChildren(pid, descendants(pid));
    const t0 = Date.now();
    await this.registry.stop(pid, 'SIGTERM', 20_000);
    const stopMs = Date.now() - t0;
    this.pid = null;
    await sleep(300);
    return { exitCode: null, stopMs };
  }
}

export class PistonTarget extends ManagedTarget {
  readonly label: string = 'piston';
  readonly kind: TargetSpec['kind'] = 'piston';
  readonly canRestart: boolean = true;
  protected readonly entry: string = join(repoRoot, 'dist', 'src', 'main.js');
  /** Arguments for node in front of main.js on every start (e.g. --cpu-prof). */
  nodeArgs: string[] = [];
  /** Extra environment on every start (e.g. PISTON_WARM_UP_ROUNDS=0), below the per-start `env`. */
  env: Record<string, string> = {};
  /** The admin API port of the running server (steps that provision devices through the API). */
  apiPort = 0;

  async start(tag: string, opts: StartOptions = {}): Promise<StartInfo> {
    if (!existsSync(this.entry)) throw new Error(`${this.entry} is missing: run "npm run build" first`);
    const dir = join(this.outDir, 'server', this.label === 'piston' ? tag : `${this.label}-${tag}`);
    mkdirSync(dir, { recursive: true });
    // A fresh start gets an empty store, also when --out names a folder an earlier run used: our server would
    // restore that run's subscriptions and keep notifying watchers that are gone.
    if (opts.dataDir === undefined) rmSync(join(dir, 'data'), { recursive: true, force: true });
    this.dataDir = opts.dataDir ?? join(dir, 'data');
    mkdirSync(this.dataDir, { recursive: true });
    this.port = await freePort();
    const apiPort = await freePort();
    this.apiPort = apiPort;
    const log = createWriteStream(join(dir, 'server.log'));
    const t0 = Date.now();
    const { child, exited } = this.registry.spawn(
      process.execPath,
      [...this.nodeArgs, ...(opts.nodeArgs ?? []), this.entry],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '',
          PISTON_SIP_HOST: '127.0.0.1',
          PISTON_SIP_PORT: String(this.port),
          PISTON_API_HOST: '127.0.0.1',
          PISTON_API_PORT: String(apiPort),
          PISTON_DATA_DIR: this.dataDir,
          PISTON_LOG_LEVEL: opts.logLevel ?? 'warn',
          PISTON_NODE_NAME: 'piston@bench',
          PISTON_SUBSCRIBE_MAX_EXPIRES: '3600',
          PISTON_SUBSCRIBE_DEFAULT_EXPIRES: '3600',
          // Issue 19 item 8: the load comes from trusted peer addresses (no digest challenge, no per-source limits), so
          // the figures stay comparable with Kamailio's unauthenticated configuration. auth-rate overrides it.
          PISTON_SIP_TRUSTED_PEERS: '127.0.0.0/8',
          // The SIPp steps use UDP and TCP only; a fixed WebSocket port would keep a second server (cluster) from starting.
          PISTON_SIP_WS_PORT: '0',
          ...this.env,
          ...opts.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
      basename(this.entry),
    );
    this.pid = child.pid!;
    let readyLogMs: number | null = null;
    let restoredLine: Record<string, unknown> | undefined;
    let pending = '';
    const onText = (chunk: Buffer): void => {
      log.write(chunk);
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (readyLogMs === null && line.includes('"msg":"ready"')) readyLogMs = Date.now() - t0;
        if (restoredLine === undefined && line.includes('"msg":"state restored"')) {
          try {
            restoredLine = JSON.parse(line) as Record<string, unknown>;
          } catch {
            restoredLine = { line };
          }
        }
      }
    };
    child.stdout!.on('data', onText);
    child.stderr!.on('data', onText);
    void exited.then(() => log.end());
    const ok = await waitForSip(this.host, this.port, 120_000, () => isAlive(child.pid!));
    if (!ok) throw new Error(`${this.label} did not answer OPTIONS on ${this.port}; see ${join(dir, 'server.log')}`);
    const sipAnswerMs = Date.now() - t0;
    if (opts.logLevel === 'info' || opts.logLevel === 'debug') {
      const deadline = Date.now() + 10_000;
      while (readyLogMs === null && Date.now() < deadline) await sleep(5);
    }
    await sleep(300);
    return { readyLogMs, sipAnswerMs, ...(restoredLine ? { restoredLine } : {}) };
  }

  memoryKiB(): { value: number | null; what: string; rssSumKiB: number | null } {
    const v = this.pid === null ? null : rssKiB(this.pid);
    return { value: v, what: 'VmRSS', rssSumKiB: v };
  }
}

/**
 * The floor (bench/floor/floor-server.ts), started like our server: what the platform alone costs in the rate and
 * fan-out steps over UDP. It keeps nothing on disk, so it cannot restart with its state.
 */
export class FloorTarget extends PistonTarget {
  override readonly label = 'floor';
  override readonly kind = 'floor' as const;
  override readonly canRestart = false;
  protected override readonly entry = join(repoRoot, 'dist', 'bench', 'floor-server.js');
}

/**
 * A Kamailio process: started in `dir` with `args` and `env` (PATH added), its log capped at 1 MiB, ready once it
 * answers OPTIONS on `this.port`; measured as the PSS sum of its processes.
 */
export abstract class KamailioProcessTarget extends ManagedTarget {
  readonly label = 'kamailio';
  readonly kind = 'kamailio' as const;
  readonly canRestart = false;

  protected async runKamailio(dir: string, args: string[], env: Record<string, string>): Promise<StartInfo> {
    const log = createWriteStream(join(dir, 'kamailio.log'));
    const t0 = Date.now();
    const { child, exited } = this.registry.spawn(
      'kamailio',
      args,
      { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
      'kamailio',
    );
    this.pid = child.pid!;
    // Overload makes Kamailio log "out of mem" in a loop: keep only the first MiB of its log.
    let written = 0;
    const onText = (chunk: Buffer): void => {
      if (written < 1 << 20) log.write(chunk);
      written += chunk.length;
    };
    child.stdout!.on('data', onText);
    child.stderr!.on('data', onText);
    void exited.then(() => log.end());
    const ok = await waitForSip(this.host, this.port, 30_000, () => isAlive(child.pid!));
    if (!ok) throw new Error(`kamailio did not answer OPTIONS on ${this.port}; see ${join(dir, 'kamailio.log')}`);
    const sipAnswerMs = Date.now() - t0;
    await sleep(500);
    this.registry.recordChildren(this.pid, descendants(this.pid));
    return { readyLogMs: null, sipAnswerMs };
  }

  memoryKiB(): { value: number | null; what: string; rssSumKiB: number | null } {
    const pids = this.pids();
    if (pids.length === 0) return { value: null, what: 'PSS sum', rssSumKiB: null };
    const m = pssRssKiB(pids);
    return { value: m.pssKiB, what: 'PSS sum', rssSumKiB: m.rssKiB };
  }
}

/** Kamailio 5.6 with the shared presence configuration, started the way ../shared/bench/kamailio/bench.sh does. */
export class KamailioTarget extends KamailioProcessTarget {
  async start(tag: string): Promise<StartInfo> {
    const dir = join(this.outDir, 'server', `kam-${tag}`);
    mkdirSync(dir, { recursive: true });
    const db = join(dir, 'dbtext');
    cpSync(join(kamailioDir, 'dbtext'), db, { recursive: true });
    chmodSync(db, 0o755);
    for (const f of readdirSync(db)) chmodSync(join(db, f), 0o644);
    this.dataDir = db;
    this.port = await freePort();
    return this.runKamailio(dir, ['-f', join(kamailioDir, 'kamailio.cfg'), '-DD', '-E', '-m', '4096', '-M', '16', '-n', '4'], {
      KAM_DBURL: `text://${db}`,
      KAM_CTLSOCK: `unix:${join(dir, 'ctl')}`,
      KAM_TCP_CHILDREN: '4',
      KAM_LISTEN_UDP: `udp:127.0.0.1:${this.port}`,
      KAM_LISTEN_TCP: `tcp:127.0.0.1:${this.port}`,
    });
  }

  override async stop(): Promise<{ exitCode: number | null; stopMs: number }> {
    const r = await super.stop();
    const log = join(this.outDir, 'server');
    for (const d of readdirSync(log)) {
      const f = join(log, d, 'kamailio.log');
      if (existsSync(f) && statSync(f).size > 1 << 20) truncateSync(f, 1 << 20);
    }
    return r;
  }
}

/** A server someone else runs: measured through the PID that holds its UDP port, never started or stopped. */
export class ExternalTarget implements Target {
  readonly kind = 'external' as const;
  readonly managed = false;
  readonly canRestart = false;
  dataDir: string | null = null;
  readonly label: string;
  readonly host: string;
  port: number;
  private pid: number | null = null;

  constructor(address: { host: string; port: number }) {
    this.host = address.host;
    this.port = address.port;
    this.label = `${address.host}:${address.port}`;
  }

  async start(): Promise<StartInfo> {
    const t0 = Date.now();
    const ok = await waitForSip(this.host, this.port, 10_000);
    if (!ok) throw new Error(`${this.label} does not answer OPTIONS over UDP`);
    this.pid = pidOfUdpPort(this.port);
    return { readyLogMs: null, sipAnswerMs: Date.now() - t0 };
  }

  async stop(): Promise<{ exitCode: number | null; stopMs: number }> {
    return { exitCode: null, stopMs: 0 };
  }

  pids(): number[] {
    if (this.pid === null || !isAlive(this.pid)) return [];
    return [this.pid, ...descendants(this.pid)];
  }

  cpuTicks(): number {
    return cpuTicks(this.pids());
  }

  memoryKiB(): { value: number | null; what: string; rssSumKiB: number | null } {
    const pids = this.pids();
    if (pids.length === 0) return { value: null, what: 'unknown PID', rssSumKiB: null };
    if (pids.length === 1) {
      const v = rssKiB(pids[0]!);
      return { value: v, what: 'VmRSS', rssSumKiB: v };
    }
    const m = pssRssKiB(pids);
    return { value: m.pssKiB, what: 'PSS sum', rssSumKiB: m.rssKiB };
  }
}

export interface PistonStartSettings {
  cpuProfDir?: string | undefined;
  nodeArgs: string[];
  env: Record<string, string>;
}

export function makeTarget(spec: TargetSpec, registry: ProcessRegistry, outDir: string, ours?: PistonStartSettings): Target {
  if (spec.kind === 'piston') {
    const t = new PistonTarget(registry, outDir);
    const cpuProfDir = ours?.cpuProfDir;
    const nodeArgs = ours?.nodeArgs ?? [];
    t.env = ours?.env ?? {};
    t.nodeArgs = [...nodeArgs, ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', resolve(cpuProfDir)] : [])];
    return t;
  }
  if (spec.kind === 'kamailio') return new KamailioTarget(registry, outDir);
  if (spec.kind === 'floor') {
    const t = new FloorTarget(registry, outDir);
    if (spec.floorParse) t.env = { PISTON_FLOOR_PARSE: spec.floorParse };
    return t;
  }
  return new ExternalTarget(spec.address!);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
