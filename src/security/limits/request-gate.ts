import type { Admission } from '../../sip/transport/admission.js';
import type { AdmitRequest, RequestSource } from '../../sip/transport/transport-set.js';
import type { LimitCounters } from './limit-counters.js';
import { isScannerAgent } from './scanner-agents.js';
import { sourceKey } from './source-key.js';
import type { SourceRateLimiter } from './source-rate-limiter.js';
import { peerSourceOf, type TrustedPeerLookup } from './trusted-peers.js';

export interface RequestGateOptions {
  /** Drop requests whose User-Agent names a scanner (scanner-agents.ts). */
  dropScanners: boolean;
  /** The per-source bucket and ban list; absent: no rate limit. */
  rate: SourceRateLimiter | undefined;
  trusted: TrustedPeerLookup;
  counters: LimitCounters;
}

/**
 * The admission gate's limits (security.md §4.2), before any transaction exists: a scanner's User-Agent is dropped;
 * an untrusted source over its bucket, or banned, is dropped on UDP (an answer would feed the flood, and a datagram
 * sender retransmits anyway) and answered 503 + Retry-After (the ban's remaining time) on a connection, whose sender
 * would otherwise wait out its transaction timer and whose retries Retry-After slows. Trusted peers skip the bucket.
 * An IPv6 source is counted by its /64 (source-key.ts).
 */
export function createRequestGate(opts: RequestGateOptions): AdmitRequest {
  const { counters, rate, trusted, dropScanners } = opts;
  return (source: RequestSource): Admission => {
    if (dropScanners) {
      const agent = source.request.headers.get('user-agent');
      if (agent !== undefined && isScannerAgent(agent)) {
        counters.scanner++;
        return false;
      }
    }
    if (rate === undefined) return true;
    const flow = source.flow;
    const key = sourceKey(flow.remoteAddress);
    const verdict = rate.take(key);
    if (verdict.ok) return true;
    // Trust is asked only of a source over its bucket: a trusted PBX costs one lookup per bucketful, not per request.
    if (trusted(peerSourceOf(flow)).length > 0) {
      rate.forgive(key);
      return true;
    }
    if (verdict.started) counters['ban-started']++;
    if (!source.transport.reliable) {
      counters['rate-dropped']++;
      return false;
    }
    counters['rate-refused']++;
    return { retryAfterS: Math.max(1, Math.ceil(verdict.remainingMs / 1000)) };
  };
}
