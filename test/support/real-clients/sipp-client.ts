import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { clientFixtures } from './client-fixture.js';
import { startClientProcess, type ClientProcess } from './client-process.js';

/**
 * SIPp with a scenario from fixtures/clients/sipp/, in its own temporary directory (SIPp writes its files next to
 * the scenario), bounded like every other client and stoppable from a test's teardown. Every run writes
 * `messages.log` (-trace_msg), `logs.log` (-trace_logs) and `errors.log` (-trace_err).
 */

export interface SippClient {
  readonly process: ClientProcess;
  readonly dir: string;
  /** Current text of a file SIPp writes ('' while it does not exist). */
  read(name: string): string;
  /** Resolves true once the file matches, false when `ms` pass or SIPp exits first. */
  waitForText(name: string, pattern: RegExp, ms: number): Promise<boolean>;
  /** Stops SIPp if it still runs and removes its directory (read the files before). */
  close(): Promise<void>;
}

export function startSippClient(scenario: string, args: string[], hardTimeoutMs: number): SippClient {
  const dir = mkdtempSync(join(tmpdir(), 'piston-sipp-client-'));
  const source = join(clientFixtures, 'sipp', scenario);
  copyFileSync(source, join(dir, basename(source)));
  const trace = ['-trace_msg', '-message_file', 'messages.log', '-trace_logs', '-log_file', 'logs.log', '-trace_err', '-error_file', 'errors.log', '-nostdin'];
  const proc = startClientProcess(`sipp ${scenario}`, 'sipp', ['-sf', basename(source), ...args, ...trace], { cwd: dir, hardTimeoutMs });
  const read = (name: string): string => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : '');
  return {
    process: proc,
    dir,
    read,
    async waitForText(name, pattern, ms) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline && !proc.hasExited) {
        if (pattern.test(read(name))) return true;
        await new Promise((res) => setTimeout(res, 50));
      }
      return pattern.test(read(name));
    },
    async close() {
      await proc.stop(2000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
