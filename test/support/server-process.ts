import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/**
 * Runs the real server (`dist/src/main.js`, what `npm start` runs) as a child process on free loopback ports,
 * for end-to-end tests. `npm test` builds dist first; run `npm run build` before running an e2e file alone.
 */

export const repoRoot = resolve(import.meta.dirname, '..', '..');
const entry = join(repoRoot, 'dist', 'src', 'main.js');

export interface ServerProcess {
  readonly sipPort: number;
  readonly apiPort: number;
  readonly dataDir: string;
  /** The TLS, WS and WSS ports from the ready line (absent when off). */
  readonly tlsPort: number | undefined;
  readonly wsPort: number | undefined;
  readonly wssPort: number | undefined;
  readonly pid: number;
  readonly lines: string[];
  /** Resolves with the first log line (parsed JSON) that matches, waiting at most `ms`. */
  waitForLog(pattern: RegExp, ms?: number): Promise<Record<string, unknown>>;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: what a crash or `kill -9` looks like to the store. */
  kill9(): Promise<void>;
  readonly exited: Promise<number | null>;
}

/** A port free for both UDP and TCP on 127.0.0.1 (SIP listens on both). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((res, rej) => {
      const srv = createServer();
      srv.once('error', rej);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => res(p));
      });
    });
    const udpFree = await new Promise<boolean>((res) => {
      const s = createSocket('udp4');
      s.once('error', () => res(false));
      s.bind(port, '127.0.0.1', () => s.close(() => res(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port found');
}

export interface StartOptions {
  env?: Record<string, string>;
  /** The script to run instead of dist/src/main.js (a test launcher that calls startServer with extra options). */
  entry?: string;
  /** Reuse a data directory (restart tests); a fresh temporary one otherwise, removed by cleanup(). */
  dataDir?: string;
  sipPort?: number;
  apiPort?: number;
  readyTimeoutMs?: number;
}

export async function startServerProcess(options: StartOptions = {}): Promise<ServerProcess> {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
  const script = options.entry ?? entry;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'piston-e2e-'));
  const sipPort = options.sipPort ?? (await freePort());
  const apiPort = options.apiPort ?? (await freePort());
  const child: ChildProcess = spawn(process.execPath, [script], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      PISTON_SIP_HOST: '127.0.0.1,::1',
      PISTON_SIP_PORT: String(sipPort),
      PISTON_API_HOST: '127.0.0.1',
      PISTON_API_PORT: String(apiPort),
      PISTON_DATA_DIR: dataDir,
      PISTON_LOG_LEVEL: 'info',
      // TLS (5061), WebSocket (5066) and secure WebSocket (7443) have fixed default ports: ephemeral ones here, so
      // test servers running side by side never collide (TLS and WSS listen only when a test gives a certificate).
      PISTON_SIP_TLS_PORT: '0',
      PISTON_SIP_WS_PORT: '0',
      PISTON_SIP_WSS_PORT: '0',
      // The server authenticates by default (security.md); tests that are not about it subscribe without
      // credentials, as before. Tests of authentication pass PISTON_SIP_AUTH=digest.
      PISTON_SIP_AUTH: 'off',
      // Every e2e client shares 127.0.0.1, at load-test rates: the per-source abuse limits (security.md §4.2) would
      // ban it. They are off here unless a test turns them on (test/e2e/abuse-limits.test.ts does).
      PISTON_SIP_RATE_REQUESTS: '0',
      PISTON_SIP_MAX_CONNECTIONS_PER_IP: '0',
      PISTON_SUBSCRIPTIONS_PER_WATCHER: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (v: Record<string, unknown>) => void }[] = [];
  const onText = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(line) as Record<string, unknown>;
          } catch {
            parsed = { line };
          }
          w.resolve(parsed);
        }
      }
    }
  };
  child.stdout!.on('data', onText);
  child.stderr!.on('data', onText);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));

  const waitForLog = (pattern: RegExp, ms = 15_000): Promise<Record<string, unknown>> => {
    const seen = lines.find((l) => pattern.test(l));
    if (seen) {
      try {
        return Promise.resolve(JSON.parse(seen) as Record<string, unknown>);
      } catch {
        return Promise.resolve({ line: seen });
      }
    }
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no log line matching ${pattern} within ${ms} ms; last lines:\n${lines.slice(-20).join('\n')}`)), ms);
      waiters.push({ pattern, resolve: (v) => { clearTimeout(timer); res(v); } });
      void exited.then((code) => { clearTimeout(timer); rej(new Error(`server exited (${code}) before ${pattern}:\n${lines.slice(-20).join('\n')}`)); });
    });
  };

  const ready = await waitForLog(/"msg":"ready"/, options.readyTimeoutMs ?? 20_000);
  const sip = (ready.sip ?? {}) as { tlsPort?: number; wsPort?: number; wssPort?: number };
  return {
    sipPort,
    tlsPort: sip.tlsPort,
    wsPort: sip.wsPort,
    wssPort: sip.wssPort,
    apiPort,
    dataDir,
    pid: child.pid!,
    lines,
    waitForLog,
    exited,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The server for one test file: started now (tap runs ESM test files with top-level await) and stopped, with its
 * temporary data directory removed, when the file's tests are done.
 */
export async function startServerForFile(t: { teardown(fn: () => Promise<void>): void }, options: StartOptions = {}): Promise<ServerProcess> {
  const server = await startServerProcess(options);
  t.teardown(async () => {
    await server.stop();
    if (options.dataDir === undefined) removeDir(server.dataDir);
  });
  return server;
}
