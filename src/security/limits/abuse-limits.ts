import type { Clock } from '../../lib/clock.js';
import { ByteBudget, type ConnectionLimits } from '../../sip/transport/admission.js';
import type { AdmitRequest } from '../../sip/transport/transport-set.js';
import type { AuthorizationResult } from '../../sip/ua/request-policy.js';
import { createConnectionGate } from './connection-gate.js';
import { newLimitCounters, type LimitCounters } from './limit-counters.js';
import { createPublicationQuota, type QuotaPublishInput } from './publication-quota.js';
import { createRequestGate } from './request-gate.js';
import { SourceRateLimiter } from './source-rate-limiter.js';
import { SubscriptionQuota, type QuotaSubscribeInput, type QuotaSubscription } from './subscription-quota.js';
import { NO_TRUSTED_PEERS, peerSourceOf, type TrustedPeerLookup } from './trusted-peers.js';

/** The limits of security.md §4.2, each 0 to turn it off (the defaults are in src/config/config.ts). */
export interface AbuseLimitSettings {
  /** Token bucket per untrusted source address: requests per window. */
  requestsPerWindow: number;
  windowMs: number;
  banMs: number;
  dropScanners: boolean;
  connectionsPerAddress: number;
  firstBytesMs: number;
  messageMs: number;
  /** Bytes all stream framers together may hold. */
  framerBudgetBytes: number;
  /** Unsent bytes a trusted peer's connection may hold while it drains (send-backlog.ts); 0: the common limit. */
  peerSendBufferBytes?: number;
  /** Over the common limit, a trusted peer that took no bytes for this long is dropped. */
  sendStallMs?: number;
  subscriptionsPerWatcher: number;
  subscriptionCeiling: number;
  publicationsPerResource: number;
  publicationCeiling: number;
}

export interface AbuseLimitDeps {
  clock: Clock;
  /** Default: nobody is trusted. */
  trusted?: TrustedPeerLookup;
  /** Live subscriptions and publications, read when a new one asks (late-bound: the stack is built after the policy). */
  liveSubscriptions: () => number;
  livePublications: () => number;
  publicationsOf: (resource: string) => number;
}

/** Retry-After of the global ceilings' 503: long enough that phones do not storm, short enough to recover soon. */
export const CEILING_RETRY_AFTER_S = 60;
/** Over the common send limit, how long a trusted peer may take no bytes before it is dropped (a stuck peer). */
export const DEFAULT_SEND_STALL_MS = 5000;
/** Sources whose buckets and bans are held at once (about 100 bytes each). */
export const MAX_TRACKED_SOURCES = 100_000;

export interface AbuseLimits {
  /** The admission gate (the stack policy's `admit`). */
  readonly admit: AdmitRequest;
  /** For the stream transports (SipTransport's `connectionLimits`). */
  readonly connections: ConnectionLimits;
  /** The stack policy's `authorizeSubscribe` and `authorizePublish`. */
  authorizeSubscribe(input: QuotaSubscribeInput): AuthorizationResult;
  authorizePublish(input: QuotaPublishInput): AuthorizationResult;
  /** Feed the notifier's subscription events here (feed `subscription-created` / `subscription-removed`). */
  subscriptionCreated(sub: QuotaSubscription): void;
  subscriptionRemoved(sub: Pick<QuotaSubscription, 'id'>): void;
  /** Counts for the metrics, read at scrape time. */
  readonly counters: LimitCounters;
  bannedSources(): number;
  readonly framerBytes: () => number;
}

/** Every abuse limit, built from the settings: the policy hooks, the connection limits and their counters. */
export function createAbuseLimits(settings: AbuseLimitSettings, deps: AbuseLimitDeps): AbuseLimits {
  const counters = newLimitCounters();
  const trusted = deps.trusted ?? NO_TRUSTED_PEERS;
  const rate =
    settings.requestsPerWindow > 0
      ? new SourceRateLimiter({
          requests: settings.requestsPerWindow,
          windowMs: settings.windowMs,
          banMs: settings.banMs,
          maxSources: MAX_TRACKED_SOURCES,
          clock: deps.clock,
        })
      : undefined;
  const budget = settings.framerBudgetBytes > 0 ? new ByteBudget(settings.framerBudgetBytes) : undefined;
  const subscriptions = new SubscriptionQuota({
    perWatcher: settings.subscriptionsPerWatcher,
    ceiling: settings.subscriptionCeiling,
    live: deps.liveSubscriptions,
    retryAfterS: CEILING_RETRY_AFTER_S,
    trusted,
    counters,
  });
  const authorizePublish = createPublicationQuota({
    perResource: settings.publicationsPerResource,
    ceiling: settings.publicationCeiling,
    ofResource: deps.publicationsOf,
    live: deps.livePublications,
    retryAfterS: CEILING_RETRY_AFTER_S,
    counters,
  });
  const connectionLimit = {
    'first-bytes': 'first-bytes',
    'message-deadline': 'message-deadline',
    'byte-budget': 'byte-budget',
    'send-backlog': 'send-backlog',
    'per-address': 'connections-per-address',
    total: 'connections-total',
  } as const;
  return {
    admit: createRequestGate({ dropScanners: settings.dropScanners, rate, trusted, counters }),
    connections: {
      admit: settings.connectionsPerAddress > 0 ? createConnectionGate(settings.connectionsPerAddress, trusted) : undefined,
      firstBytesMs: settings.firstBytesMs,
      messageMs: settings.messageMs,
      budget,
      // A proxy or trunk carries every watcher's traffic on one connection: room while it drains (security.md §4.2).
      sendAllowance:
        (settings.peerSendBufferBytes ?? 0) > 0
          ? {
              bytes: settings.peerSendBufferBytes!,
              stallMs: settings.sendStallMs ?? DEFAULT_SEND_STALL_MS,
              trusted: (flow) => trusted(peerSourceOf(flow)).length > 0,
            }
          : undefined,
      onLimit: (reason) => {
        counters[connectionLimit[reason]]++;
      },
    },
    authorizeSubscribe: (input) => subscriptions.authorize(input),
    authorizePublish,
    subscriptionCreated: (sub) => subscriptions.created(sub),
    subscriptionRemoved: (sub) => subscriptions.removed(sub),
    counters,
    bannedSources: () => rate?.bannedCount() ?? 0,
    framerBytes: () => budget?.used ?? 0,
  };
}
