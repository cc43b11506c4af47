import { spawn, spawnSync } from 'node:child_process';

/**
 * Runs one real SIP client (baresip, linphonec, Kamailio, SIPp) for an end-to-end test, never unbounded:
 * the command runs under coreutils `timeout`, so even if the test process dies the client is killed after
 * `hardTimeoutMs` (timeout puts itself and the client in a new process group and signals the whole group,
 * which takes Kamailio's forked children with it). `stop()` asks politely (SIGTERM, which timeout passes on),
 * then kills the group by its id after a grace period.
 */

export interface ClientProcess {
  readonly name: string;
  /** Pid of the `timeout` wrapper; it leads the client's process group. */
  readonly pid: number;
  /** Everything written to stdout and stderr so far, ANSI colour codes removed. */
  output(): string;
  /** Resolves with the first match in the output (searching from `from`), or null when `ms` pass or the client exits first. */
  waitForOutput(pattern: RegExp, ms: number, from?: number): Promise<RegExpExecArray | null>;
  /** Writes to the client's stdin (only when started with `stdin: true`). */
  write(text: string): void;
  /** SIGTERM, then SIGKILL to the whole group after `graceMs`; resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
  readonly exited: Promise<number | null>;
  readonly hasExited: boolean;
}

export interface ClientProcessOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Upper bound on the client's whole life. */
  hardTimeoutMs: number;
  stdin?: boolean;
}

// the escape sequences baresip colours its presence states with
const ANSI = /\u001b\[[0-9;]*m/g;

/** True when `command` can be found on PATH (the test reports a missing client instead of a confusing failure). */
export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export function startClientProcess(name: string, command: string, args: string[], options: ClientProcessOptions): ClientProcess {
  const seconds = Math.ceil(options.hardTimeoutMs / 1000);
  const child = spawn('timeout', ['--kill-after=3', `${seconds}s`, command, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', ...options.env },
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let text = '';
  let exitedFlag = false;
  const listeners = new Set<() => void>();
  const onData = (d: Buffer): void => {
    text += d.toString('utf8').replace(ANSI, '');
    for (const l of [...listeners]) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((res) => {
    child.once('exit', (code) => {
      exitedFlag = true;
      for (const l of [...listeners]) l();
      res(code);
    });
    child.once('error', () => {
      exitedFlag = true;
      res(null);
    });
  });
  const pid = child.pid ?? -1;

  const killGroup = (signal: NodeJS.Signals): void => {
    if (pid <= 0) return;
    try {
      process.kill(-pid, signal);
    } catch {
      /* the group is already gone */
    }
  };

  return {
    name,
    pid,
    output: () => text,
    get hasExited() {
      return exitedFlag;
    },
    exited,
    waitForOutput(pattern, ms, from = 0) {
      const find = (): RegExpExecArray | null => {
        const re = new RegExp(pattern.source, pattern.flags.replace('g', ''));
        return re.exec(text.slice(from));
      };
      return new Promise((res) => {
        const first = find();
        if (first || exitedFlag) return res(first);
        const done = (value: RegExpExecArray | null): void => {
          listeners.delete(check);
          clearTimeout(timer);
          res(value);
        };
        const check = (): void => {
          const m = find();
          if (m) done(m);
          else if (exitedFlag) done(null);
        };
        const timer = setTimeout(() => done(find()), ms);
        listeners.add(check);
      });
    },
    write(data) {
      if (child.stdin && !child.stdin.destroyed) child.stdin.write(data);
    },
    async stop(graceMs = 3000) {
      if (exitedFlag) return exited;
      try {
        child.kill('SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => killGroup('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      // the client's own children (none expected once it exited cleanly) go with the group
      killGroup('SIGKILL');
      return code;
    },
  };
}
