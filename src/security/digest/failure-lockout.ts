import { setNewest } from '../../lib/bounded-map.js';
import { detach } from '../../lib/strings.js';

/**
 * The brute-force lockout (security.md §2.5.4): failures counted per (source IP, username as sent); the 5th within
 * 300 s locks the pair until the oldest of those failures leaves the window. Another IP, or another user name from
 * the same IP, is not affected. Memory is bounded: the least recently failed pairs go first.
 */
export interface FailureLockoutOptions {
  maxFailures?: number;
  windowS?: number;
  capacity?: number;
}

export class FailureLockout {
  private readonly failures = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly capacity: number;

  constructor(opts: FailureLockoutOptions = {}) {
    this.maxFailures = opts.maxFailures ?? 5;
    this.windowMs = (opts.windowS ?? 300) * 1000;
    this.capacity = opts.capacity ?? 100_000;
  }

  /** Seconds until the pair may try again, or 0 when it is not locked. */
  retryAfter(ip: string, username: string, nowMs: number): number {
    const list = this.recent(key(ip, username), nowMs);
    if (!list || list.length < this.maxFailures) return 0;
    return Math.max(1, Math.ceil((list[list.length - this.maxFailures]! + this.windowMs - nowMs) / 1000));
  }

  /** Counts one failure; returns the lockout's Retry-After when this one reached the limit, else 0. */
  fail(ip: string, username: string, nowMs: number): number {
    const k = key(ip, username);
    const list = this.recent(k, nowMs) ?? [];
    list.push(nowMs);
    if (list.length > this.maxFailures) list.shift();
    // Flat: the user name as parsed is a view onto the whole request's text, which the key would keep alive.
    setNewest(this.failures, detach(k), list, this.capacity);
    return this.retryAfter(ip, username, nowMs);
  }

  private recent(k: string, nowMs: number): number[] | undefined {
    const list = this.failures.get(k);
    if (!list) return undefined;
    while (list.length > 0 && list[0]! <= nowMs - this.windowMs) list.shift();
    if (list.length === 0) {
      this.failures.delete(k);
      return undefined;
    }
    return list;
  }
}

/** NUL occurs in neither an address nor a SIP user name. */
function key(ip: string, username: string): string {
  return `${ip}\u0000${username}`;
}
