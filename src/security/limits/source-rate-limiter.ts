import type { Clock } from '../../lib/clock.js';

export interface SourceRateLimiterOptions {
  /** Requests a source may send in `windowMs` (bucket size; refilled at requests / windowMs). */
  requests: number;
  windowMs: number;
  /** How long a source that emptied its bucket is banned. */
  banMs: number;
  /** Sources tracked at once (buckets, and bans separately); the oldest is forgotten beyond it. */
  maxSources: number;
  clock: Clock;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** What `take` found: allowed, or banned for `remainingMs` more (`started` when this request began the ban). */
export type RateVerdict = { readonly ok: true } | { readonly ok: false; readonly remainingMs: number; readonly started: boolean };

const OK: RateVerdict = Object.freeze({ ok: true });

/**
 * A token bucket per source address with an expiring ban list (Kamailio pike with an `ipban` htable, Kazoo's 50 per
 * 2 s): a source may burst `requests` and keep `requests / windowMs`; the request that finds its bucket empty bans
 * the source for `banMs`, and every request during the ban is refused without touching the bucket. Memory is
 * bounded: at most `maxSources` buckets and bans, the oldest entry forgotten first (a forgotten bucket starts full
 * again, a forgotten ban ends early: an attacker needs that many addresses to do either).
 */
export class SourceRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly bans = new Map<string, number>();
  private readonly capacity: number;
  private readonly perMs: number;

  constructor(private readonly opts: SourceRateLimiterOptions) {
    this.capacity = opts.requests;
    this.perMs = opts.requests / opts.windowMs;
  }

  /** Counts one request from `address`. */
  take(address: string): RateVerdict {
    const now = this.opts.clock.now();
    const bannedUntil = this.bans.get(address);
    if (bannedUntil !== undefined) {
      if (bannedUntil > now) return { ok: false, remainingMs: bannedUntil - now, started: false };
      this.bans.delete(address);
    }
    let bucket = this.buckets.get(address);
    if (bucket === undefined) {
      bucket = { tokens: this.capacity, at: now };
      bounded(this.buckets, this.opts.maxSources);
      this.buckets.set(address, bucket);
    } else {
      bucket.tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.at) * this.perMs);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return OK;
    }
    // Banned: the bucket goes, and the source starts afresh (a full bucket) when the ban ends.
    this.buckets.delete(address);
    bounded(this.bans, this.opts.maxSources);
    this.bans.set(address, now + this.opts.banMs);
    return { ok: false, remainingMs: this.opts.banMs, started: true };
  }

  /** Forgets a source's ban and bucket: a trusted peer found over its bucket starts afresh instead of being banned. */
  forgive(address: string): void {
    this.bans.delete(address);
    this.buckets.delete(address);
  }

  /** Sources banned now; forgets the expired bans it passes (at scrape time, not per request). */
  bannedCount(): number {
    const now = this.opts.clock.now();
    for (const [address, until] of this.bans) if (until <= now) this.bans.delete(address);
    return this.bans.size;
  }

  /** Buckets held (for tests of the memory bound). */
  get trackedSources(): number {
    return this.buckets.size;
  }
}

/** Makes room for one more entry by forgetting the oldest ones (Maps iterate in insertion order). */
function bounded<V>(map: Map<string, V>, max: number): void {
  while (map.size >= max) {
    const oldest = map.keys().next();
    if (oldest.done) return;
    map.delete(oldest.value);
  }
}
