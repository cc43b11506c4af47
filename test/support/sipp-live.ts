import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { sippScenarios, type SippResult } from './sipp.js';

/**
 * Starts SIPp in its own temporary directory and hands back a handle while it runs, so a test can wait for a line
 * in its log (one SIPp process reaching a step) before starting another. Every run writes the same file names:
 * `messages.log` (-trace_msg), `logs.log` (-trace_logs), `errors.log` (-trace_err).
 */

export interface LiveSipp {
  readonly dir: string;
  /** Current text of a file SIPp writes ('' while it does not exist yet). */
  read(name: string): string;
  /** Resolves true once the file's text matches, false if SIPp exits or `ms` passes first. */
  waitForText(name: string, pattern: RegExp, ms: number): Promise<boolean>;
  /** Resolves when SIPp exits (killed after the run's time limit); the directory is removed afterwards. */
  readonly result: Promise<SippResult>;
}

export function startSipp(scenario: string, args: string[], timeoutMs = 60_000): LiveSipp {
  const dir = mkdtempSync(join(tmpdir(), 'piston-sipp-'));
  const source = isAbsolute(scenario) ? scenario : join(sippScenarios, scenario);
  copyFileSync(source, join(dir, basename(source)));
  const fixed = ['-trace_msg', '-message_file', 'messages.log', '-trace_logs', '-log_file', 'logs.log', '-trace_err', '-error_file', 'errors.log', '-nostdin'];
  const child = spawn('sipp', ['-sf', basename(source), ...args, ...fixed], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const read = (name: string): string => {
    const p = join(dir, name);
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  };
  const result = new Promise<number | null>((res) => {
    child.once('exit', (c) => res(c));
    child.once('error', () => res(null));
  }).then((code) => {
    exited = true;
    clearTimeout(killer);
    const files: Record<string, string> = {};
    for (const name of readdirSync(dir)) files[name] = readFileSync(join(dir, name), 'utf8');
    rmSync(dir, { recursive: true, force: true });
    return { code, stdout, stderr, files };
  });
  return {
    dir,
    read,
    result,
    async waitForText(name, pattern, ms) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline && !exited) {
        if (pattern.test(read(name))) return true;
        await new Promise((res) => setTimeout(res, 50));
      }
      return !exited && pattern.test(read(name));
    },
  };
}
