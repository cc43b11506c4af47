import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { cmdline, isAlive } from './proc-stats.js';
import { sleep } from './sleep.js';

/**
 * Every process the runner starts is registered here with the program name it must still be running, so that a
 * normal end, an error or Ctrl-C stops exactly those PIDs (and their recorded children) and nothing else.
 */

interface Entry {
  child: ChildProcess;
  program: string;
  /** Children recorded later (Kamailio's workers); stopped by PID with the same program check. */
  extra: Set<number>;
  exited: Promise<number | null>;
}

export class ProcessRegistry {
  private readonly entries = new Map<number, Entry>();

  spawn(command: string, args: string[], options: SpawnOptions, program: string): { child: ChildProcess; exited: Promise<number | null> } {
    const child = spawn(command, args, options);
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    const exited = new Promise<number | null>((res) => {
      child.once('exit', (code, signal) => res(code ?? (signal ? 128 : null)));
      child.once('error', () => res(null));
    });
    this.entries.set(child.pid, { child, program, extra: new Set(), exited });
    void exited.then(() => {
      const e = this.entries.get(child.pid!);
      if (e && e.extra.size === 0) this.entries.delete(child.pid!);
    });
    return { child, exited };
  }

  recordChildren(pid: number, children: number[]): void {
    const e = this.entries.get(pid);
    if (e) for (const c of children) e.extra.add(c);
  }

  private signalChecked(pid: number, program: string, signal: NodeJS.Signals): void {
    if (isAlive(pid) && cmdline(pid).includes(program)) {
      try {
        process.kill(pid, signal);
      } catch {
        // exited meanwhile
      }
    }
  }

  /** Sends `first`, waits up to graceMs for the process to exit, then SIGKILLs it and its recorded children. */
  async stop(pid: number, first: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    const e = this.entries.get(pid);
    if (!e) return;
    this.signalChecked(pid, e.program, first);
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(50);
    if (isAlive(pid)) this.signalChecked(pid, e.program, 'SIGKILL');
    await Promise.race([e.exited, sleep(2000)]);
    for (const c of e.extra) this.signalChecked(c, e.program, 'SIGKILL');
    this.entries.delete(pid);
  }

  /** Synchronous last resort (process exit, signal handlers): SIGKILL everything still registered. */
  killAllNow(): void {
    for (const [pid, e] of this.entries) {
      this.signalChecked(pid, e.program, 'SIGKILL');
      for (const c of e.extra) this.signalChecked(c, e.program, 'SIGKILL');
    }
    this.entries.clear();
  }

  async stopAll(): Promise<void> {
    for (const pid of [...this.entries.keys()]) await this.stop(pid, 'SIGTERM', 3000);
  }
}
