import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';

/** Runs SIPp once, bounded in time, in its own temporary directory so its trace files can be read and removed. */

export const sippScenarios = resolve(import.meta.dirname, '..', '..', 'fixtures', 'sipp');

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Contents of the files SIPp wrote (logs, error logs, stats), by file name. */
  files: Record<string, string>;
}

/**
 * `scenario` is a file name in fixtures/sipp/ (or an absolute path); it is copied into the run's directory because
 * SIPp writes its trace files next to the scenario.
 */
export async function runSipp(scenario: string, args: string[], timeoutMs = 120_000): Promise<SippResult> {
  const dir = mkdtempSync(join(tmpdir(), 'piston-sipp-'));
  try {
    const source = isAbsolute(scenario) ? scenario : join(sippScenarios, scenario);
    copyFileSync(source, join(dir, basename(source)));
    const child = spawn('sipp', ['-sf', basename(source), ...args, '-nostdin'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    clearTimeout(killer);
    const files: Record<string, string> = {};
    for (const name of readdirSync(dir)) files[name] = readFileSync(join(dir, name), 'utf8');
    return { code, stdout, stderr, files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
