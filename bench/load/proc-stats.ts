import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Reads what the kernel knows about processes and sockets: CPU time (utime+stime from /proc/<pid>/stat), memory
 * (VmRSS from /proc/<pid>/status, PSS from /proc/<pid>/smaps_rollup), UDP receive-buffer drops per local port
 * (/proc/net/udp) and the CPU busy time of the whole machine (/proc/stat), for the noise figure.
 */

export const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

function statFields(pid: number): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces: the fields after it start behind the last ')'.
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  const f = statFields(pid);
  return f !== null && f[0] !== 'Z' && f[0] !== 'X';
}

/** The command line of a process, NUL separators as spaces; '' when gone. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Sum of utime+stime in clock ticks over the given processes (threads included). */
export function cpuTicks(pids: number[]): number {
  let t = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    if (f) t += Number(f[11]) + Number(f[12]);
  }
  return t;
}

/** All descendants of pid (children, grandchildren, ...), from the ppid field of every /proc/<pid>/stat. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f) parent.set(Number(name), Number(f[1]));
  }
  const out: number[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const p = frontier.pop()!;
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        frontier.push(child);
      }
    }
  }
  return out;
}

export function rssKiB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Sums Pss and Rss from smaps_rollup over the processes (PSS splits shared pages fairly between them). */
export function pssRssKiB(pids: number[]): { pssKiB: number; rssKiB: number; procs: number } {
  let pss = 0;
  let rss = 0;
  let procs = 0;
  for (const pid of pids) {
    try {
      const s = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      pss += Number(/^Pss:\s+(\d+)/m.exec(s)?.[1] ?? 0);
      rss += Number(/^Rss:\s+(\d+)/m.exec(s)?.[1] ?? 0);
      procs++;
    } catch {
      // gone meanwhile
    }
  }
  return { pssKiB: pss, rssKiB: rss, procs };
}

function udpSockets(): { port: number; inode: number; drops: number }[] {
  const out: { port: number; inode: number; drops: number }[] = [];
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 13) continue;
      out.push({ port: parseInt(f[1]!.split(':')[1]!, 16), inode: Number(f[9]), drops: Number(f[f.length - 1]) });
    }
  }
  return out;
}

/** Datagrams the kernel dropped because the receive buffer of the UDP socket(s) on this local port was full. */
export function udpDrops(port: number): number {
  return udpSockets()
    .filter((s) => s.port === port)
    .reduce((a, s) => a + s.drops, 0);
}

/** The process holding a UDP socket bound to this local port (for --target host:port), or null. */
export function pidOfUdpPort(port: number): number | null {
  const inodes = new Set(udpSockets().filter((s) => s.port === port).map((s) => `socket:[${s.inode}]`));
  if (inodes.size === 0) return null;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${name}/fd/${fd}`))) return Number(name);
      } catch {
        // closed meanwhile
      }
    }
  }
  return null;
}

/** Busy ticks of the whole machine (user+nice+system+irq+softirq+steal). */
export function machineBusyTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  return f[1]! + f[2]! + f[3]! + f[6]! + f[7]! + f[8]!;
}
