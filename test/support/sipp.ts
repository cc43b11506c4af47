import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';

/** SIPp runs, bounded in time, each in its own temporary directory so its trace files can be read and removed. */

export const sippScenarios = resolve(import.meta.dirname, '..', '..', 'fixtures', 'sipp');

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Contents of the files SIPp wrote (logs, error logs, stats), by file name. */
  files: Record<string, string>;
}

/**
 * Runs SIPp to the end. `scenario` is a file name in fixtures/sipp/ (or an absolute path); it is copied into the run's
 * directory because SIPp writes its trace files next to the scenario. Tracing is whatever `args` ask for.
 */
export function runSipp(scenario: string, args: string[], timeoutMs = 120_000): Promise<SippResult> {
  return startSipp(scenario, args, timeoutMs, { trace: false }).result;
}

/**
 * Starts SIPp in its own temporary directory and hands back a handle while it runs, so a test can wait for a line
 * in its log (one SIPp process reaching a step) before starting another. Unless `trace` is false every run writes
 * the same file names: `messages.log` (-trace_msg), `logs.log` (-trace_logs), `errors.log` (-trace_err).
 */
const TRACE_FILES = ['-trace_msg', '-message_file', 'messages.log', '-trace_logs', '-log_file', 'logs.log', '-trace_err', '-error_file', 'errors.log'];


export interface LiveSipp {
  readonly dir: string;
  /** Current text of a file SIPp writes ('' while it does not exist yet). */
  read(name: string): string;
  /** Resolves true once the file's text matches, false if SIPp exits or `ms` passes first. */
  waitForText(name: string, pattern: RegExp, ms: number): Promise<boolean>;
  /** Resolves when SIPp exits (killed after the run's time limit); the directory is removed afterwards. */
  readonly result: Promise<SippResult>;
}

export function startSipp(scenario: string, args: string[], timeoutMs = 60_000, options: { trace?: boolean } = {}): LiveSipp {
  const dir = mkdtempSync(join(tmpdir(), 'piston-sipp-'));
  const source = isAbsolute(scenario) ? scenario : join(sippScenarios, scenario);
  copyFileSync(source, join(dir, basename(source)));
  const trace = options.trace ?? true;
  const fixed = [...(trace ? TRACE_FILES : []), '-nostdin'];
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
