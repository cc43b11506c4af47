// Abuse limits (security.md §4): the admission gate, connection limits, subscription and publication quotas.
export { createAbuseLimits, CEILING_RETRY_AFTER_S, type AbuseLimits, type AbuseLimitDeps, type AbuseLimitSettings } from './abuse-limits.js';
export { LIMIT_NAMES, newLimitCounters, type LimitCounters, type LimitName } from './limit-counters.js';
export { NO_TRUSTED_PEERS, type PeerSource, type TrustedPeerLookup, type TrustedPeerMatch } from './trusted-peers.js';
export { TOO_MANY_SUBSCRIPTIONS } from './subscription-quota.js';
export { TOO_MANY_PUBLICATIONS } from './publication-quota.js';
