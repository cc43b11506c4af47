import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './server-process.js';

/**
 * Runs one of the built entry points (`dist/src/<name>.js`) to its exit and collects what it printed: for starts
 * that must fail, and for the admin CLI. Killed (by its pid) if it outlives `timeoutMs`.
 */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function distEntry(name: 'main' | 'start' | 'admin'): string {
  return join(repoRoot, 'dist', 'src', `${name}.js`);
}

export function runToExit(entry: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<RunResult> {
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: repoRoot,
    // WebSocket is on by default at 5066: an ephemeral port here, so parallel runs never collide.
    env: { PATH: process.env.PATH ?? '', PISTON_SIP_WS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
