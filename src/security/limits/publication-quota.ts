import type { AuthorizationResult } from '../../sip/ua/request-policy.js';
import type { LimitCounters } from './limit-counters.js';

/** What the quota reads of a PUBLISH at authorization (a subset of the presentity's PublishAuthorizationInput). */
export interface QuotaPublishInput {
  /** The presentity, `user@domain`. */
  readonly resource: string;
  readonly action: 'create' | 'modify' | 'refresh' | 'remove';
}

export interface PublicationQuotaOptions {
  /** Live publications one resource may hold (Kazoo `max_call_per_presentity`: 20); 0: no cap. */
  perResource: number;
  /** Live publications in all, beyond which new ones get 503; 0: no ceiling. */
  ceiling: number;
  /** Live publications of a resource now, and in all (the presentity's counts, O(1) or the resource's own). */
  ofResource: (resource: string) => number;
  live: () => number;
  retryAfterS: number;
  counters: LimitCounters;
}

export const TOO_MANY_PUBLICATIONS = 'Too many publications';

/**
 * Bounds PUBLISH memory (security.md §4.2): only a new publication (no SIP-If-Match) is counted; modifying,
 * refreshing and removing one held never are, so a PBX can always end the calls it published. Per resource it is 403
 * "Too many publications" (the resource is full, trying again will not help); over the global ceiling 503 +
 * Retry-After, before memory runs out. Applies to trusted peers too: it bounds a resource, not a source.
 */
export function createPublicationQuota(opts: PublicationQuotaOptions): (input: QuotaPublishInput) => AuthorizationResult {
  return (input) => {
    if (input.action !== 'create') return ALLOWED;
    if (opts.ceiling > 0 && opts.live() >= opts.ceiling) {
      opts.counters['publication-ceiling']++;
      return { ok: false, response: { status: 503, headers: [['Retry-After', String(opts.retryAfterS)]] } };
    }
    if (opts.perResource > 0 && opts.ofResource(input.resource) >= opts.perResource) {
      opts.counters['publications-per-resource']++;
      return { ok: false, response: { status: 403, reason: TOO_MANY_PUBLICATIONS } };
    }
    return ALLOWED;
  };
}

const ALLOWED: AuthorizationResult = Object.freeze({ ok: true });
