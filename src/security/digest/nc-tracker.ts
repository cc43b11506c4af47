import { detach } from '../../lib/strings.js';

/**
 * Replay protection (security.md §2.5.2): per nonce the highest `nc` accepted, in a bounded map (least recently used
 * out first). Only a rising nc is accepted (Snom and Yealink count up on one nonce); the same nc again is a replay.
 * A nonce without qop (RFC 2069 style) is good once. A nonce pushed out of the map could otherwise be replayed, so
 * every nonce issued no later than the newest one pushed out is from then on treated as expired (`stale`: a right
 * digest gets a new nonce at once).
 */
export type NcVerdict = 'fresh' | 'replay' | 'evicted';

export class NcTracker {
  private readonly seen = new Map<string, number>();
  private evictedUpToS = -1;

  constructor(private readonly capacity = 262_144) {}

  get size(): number {
    return this.seen.size;
  }

  /** Accepts `nc` (0 for a nonce used without qop) on `nonce` issued at `issuedS`, or says why not. */
  accept(nonce: string, issuedS: number, nc: number): NcVerdict {
    const last = this.seen.get(nonce);
    if (last === undefined) {
      if (issuedS <= this.evictedUpToS) return 'evicted';
    } else if (nc === 0 || nc <= last) {
      return 'replay';
    }
    // Re-inserted to move it to the young end. The nonce as parsed is a view onto the whole request's text: kept as
    // the key it held ~670 bytes per entry instead of ~100 (262,144 entries at capacity; issue 19).
    this.seen.delete(nonce);
    this.seen.set(detach(nonce), nc);
    if (this.seen.size > this.capacity) this.evictOldest();
    return 'fresh';
  }

  private evictOldest(): void {
    const oldest = this.seen.keys().next().value as string;
    this.seen.delete(oldest);
    const raw = Buffer.from(oldest, 'base64url');
    if (raw.length >= 4) this.evictedUpToS = Math.max(this.evictedUpToS, raw.readUInt32BE(0));
  }
}
