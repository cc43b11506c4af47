import type { RequestIdentity } from '../sip/ua/request-policy.js';
import type { SubscriptionRecord } from '../store/records.js';
import type { SubscriptionState } from './subscription-state.js';

/**
 * A live subscription: the stored record plus the CSeq the store last received for it. CSeq and version rise by one
 * per NOTIFY; writing the record for every NOTIFY made the store the largest cost of a fan-out, so it is written when
 * CSeq has run SEQUENCE_LEASE ahead of what is stored (and at a clean stop). After a crash the stored values may lag
 * by less than that plus the write-behind window; the caller's restore headroom covers it (main.ts).
 */
export interface LiveSubscription extends SubscriptionRecord {
  storedCseq: number;
  /** The expiry wheel's bookkeeping (lib/expiry-wheel.ts). */
  wheelSlot: number;
  /** Where it is in its life (subscription-state.ts); moved only by `transition`. */
  state: SubscriptionState;
  /**
   * Who created it, as the policy authenticated it; undefined without an authenticating policy, and after a restart
   * (not stored). Only the same identity replaces it, and an in-dialog request must come from it (security.md §2.6).
   */
  identity: RequestIdentity | undefined;
  /**
   * The watcher has answered one of its NOTIFYs (any response), or it was restored from the store. Until then a NOTIFY
   * timeout removes it at once instead of counting a strike (notify-verdict.ts). In memory only.
   */
  reached: boolean;
}

/** NOTIFYs a subscription may send before its CSeq/version are written again; the crash headroom must exceed it. */
export const SEQUENCE_LEASE = 16;
