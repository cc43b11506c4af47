import { setNewest } from '../lib/bounded-map.js';
import type { Clock } from '../lib/clock.js';

export interface LoginLimiterOptions {
  clock: Clock;
  /** Failures within `windowMs` from one address that lock it (security.md §5: 5, the SIP figure). */
  maxFailures?: number;
  /** Default 300 s. */
  windowMs?: number;
  /** Addresses tracked at once; beyond it the least recently failing are forgotten (bounded memory). */
  maxSources?: number;
}

export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_WINDOW_MS = 300_000;
const MAX_SOURCES = 10_000;

/** `::ffff:192.0.2.1` and `192.0.2.1` are one client (a dual-stack listener reports the first). */
export function clientAddress(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/**
 * Failed `PUT /v2/api_auth` and `PUT /v2/user_auth` per source address (security.md §5, issue 19 item 6). From the
 * `maxFailures`-th failure within the window the address is locked: every login from it, right or wrong, is answered
 * 429 with Retry-After until the oldest of those failures leaves the window. A locked request is not tried, so it
 * adds no failure and the lock ends on time. Other addresses are not affected.
 */
export class LoginLimiter {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxSources: number;
  /** Address → times of its recent failures, oldest first, at most `maxFailures`. Map order: least recent first. */
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly opts: LoginLimiterOptions) {
    this.maxFailures = opts.maxFailures ?? LOGIN_MAX_FAILURES;
    this.windowMs = opts.windowMs ?? LOGIN_WINDOW_MS;
    this.maxSources = opts.maxSources ?? MAX_SOURCES;
  }

  /** Seconds until `ip` may try again (0: it may now). */
  retryAfterS(ip: string): number {
    const times = this.recent(ip);
    if (times.length < this.maxFailures) return 0;
    const freeAt = times[times.length - this.maxFailures]! + this.windowMs;
    return Math.max(1, Math.ceil((freeAt - this.opts.clock.now()) / 1000));
  }

  /** Counts a failure; answers the Retry-After when this one locked the address (0 otherwise). */
  fail(ip: string): number {
    const times = this.recent(ip);
    times.push(this.opts.clock.now());
    if (times.length > this.maxFailures) times.shift();
    // Re-inserted so Map order stays least-recently-failing first; the oldest beyond the bound is forgotten.
    setNewest(this.failures, ip, times, this.maxSources);
    return this.retryAfterS(ip);
  }

  /** Addresses tracked now (for tests and the bound). */
  get tracked(): number {
    return this.failures.size;
  }

  private recent(ip: string): number[] {
    const times = this.failures.get(ip);
    if (!times) return [];
    const horizon = this.opts.clock.now() - this.windowMs;
    while (times.length > 0 && times[0]! <= horizon) times.shift();
    if (times.length === 0) this.failures.delete(ip);
    return times;
  }
}
