/**
 * A real redis-server (Debian's, from PATH) for cluster tests, modelled on server-process.ts (cluster.md §9): on a free
 * loopback port with a temporary directory, without persistence unless asked, stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server-process.js';

export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  readonly dir: string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL: an engine lost without warning. */
  kill9(): Promise<void>;
  /** SIGSTOP / SIGCONT: a frozen engine (connections stay open, nothing answers). */
  pause(): void;
  resume(): void;
  readonly exited: Promise<number | null>;
}

export interface RedisStartOptions {
  /** Reuse a port (a fresh Redis where a lost one was). */
  port?: number;
  /** `--appendonly yes` for persistence tests. */
  appendOnly?: boolean;
  /**
   * Use this directory (with `appendOnly`, the data an earlier server kept there is loaded) and leave it at stop: a
   * Redis that comes back with its data. The caller removes it.
   */
  dir?: string;
  readyTimeoutMs?: number;
}

/** Answers once `PING` gets `+PONG` on 127.0.0.1:port, or throws after `ms`. */
async function waitForPong(port: number, ms: number, exited: Promise<unknown>): Promise<void> {
  const end = Date.now() + ms;
  let dead = false;
  void exited.then(() => (dead = true));
  while (Date.now() < end && !dead) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      let text = '';
      sock.setTimeout(500, () => sock.destroy());
      sock.once('connect', () => sock.write('PING\r\n'));
      sock.on('data', (b) => {
        text += b.toString('latin1');
        if (text.includes('\r\n')) sock.end();
      });
      sock.once('close', () => resolve(text.startsWith('+PONG')));
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(dead ? `redis-server on ${port} exited before answering PING` : `redis-server on ${port} did not answer PING within ${ms} ms`);
}

export async function startRedisProcess(options: RedisStartOptions = {}): Promise<RedisProcess> {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'piston-redis-'));
  const removeDir = (): void => {
    if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
  };
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', options.appendOnly ? 'yes' : 'no', '--dir', dir, '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const out: string[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => out.push(b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  try {
    await Promise.race([waitForPong(port, options.readyTimeoutMs ?? 10_000, exited), spawnError]);
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL');
    removeDir();
    throw new Error(`${(err as Error).message}\n${out.join('').slice(-2000)}`);
  }
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT'); // a stopped process cannot act on SIGTERM
      child.kill(sig);
    }
    await exited;
    removeDir();
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    dir,
    exited,
    stop: () => signal('SIGTERM'),
    kill9: () => signal('SIGKILL'),
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
  };
}

/** A redis-server for one test file, stopped (and its directory removed) when the file's tests are done. */
export async function startRedisForFile(t: { teardown(fn: () => Promise<void>): void }, options: RedisStartOptions = {}): Promise<RedisProcess> {
  const redis = await startRedisProcess(options);
  t.teardown(() => redis.stop());
  return redis;
}
