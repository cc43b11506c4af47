import type { AccountServices } from '../accounts/account-services.js';
import type { ManualState } from '../events/event-package.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { ResourceDescription } from '../presentity/resource-description.js';
import type { ResourceKey } from '../presentity/resource-key.js';
import type { StoreWriteHealth } from '../store/ports.js';
import type { SubscriptionRecord } from '../store/records.js';
import type { ApiMetrics } from './metrics.js';
import type { OperatorDeps } from './operator-deps.js';

/** What the presence routes need from the presentity service; `PresentityService` satisfies it. */
export interface PresenceControl {
  reset(resource: ResourceKey): void;
  setManualState(resource: ResourceKey, state: ManualState): void;
  describe(resource: ResourceKey): ResourceDescription;
  /** Domains where the user part has published, manual or mailbox state. */
  domainsOf(user: string): string[];
}

/** What the presence routes need from the notifier; `Notifier` satisfies it. */
export interface SubscriptionView {
  /**
   * Every live subscription now, as the live records themselves (read-only, not copies): the list reads them in time
   * slices and renders each NOTIFY body only as it writes that entry.
   */
  liveRecords(): readonly Readonly<SubscriptionRecord>[];
  watchersOf(resource: ResourceKey): SubscriptionRecord[];
  /** Domains where the user part is watched. */
  watchedDomains(user: string): string[];
}

/**
 * Cluster mode (cluster.md §7, admin list): every node's live subscriptions, this node's as its live records and the
 * others' from the directory (`stalker` = their node); `partial` when only this node's could be read (the list then
 * says `timeout: true`). `ClusterListing` (src/cluster/directory/cluster-listing.ts) satisfies it.
 */
export interface ClusterSubscriptionList {
  list(): Promise<{ records: readonly Readonly<SubscriptionRecord>[]; partial: boolean }>;
  /** Domains other than `skip` where the user part is watched on other nodes (a reset or set reaches them too). */
  watchedDomains?(user: string, skip: readonly string[]): Promise<string[]>;
  /**
   * One resource's watchers held by other nodes (`GET …/presence/{EXTENSION}`; this node's come from the notifier);
   * `partial` when the directory could not be read (the answer then says `timeout: true`).
   */
  remoteWatchersOf?(resource: ResourceKey): Promise<{ records: readonly Readonly<SubscriptionRecord>[]; partial: boolean }>;
}

/** Readiness probes for `GET /healthz`. */
export interface HealthProbes {
  /** The SIP listener is bound and accepting. */
  sip(): boolean;
  /** The store is open. */
  store(): boolean;
  /** Whether the open store's writes reach the disk (`PresenceStateStore.writeHealth`); absent: taken as writable. */
  storeWrites?(): StoreWriteHealth;
  /** Cluster mode only: `degraded` while the shared engine does not answer (island mode; SIP goes on). */
  cluster?(): 'ok' | 'degraded';
}

export interface ApiDeps {
  services: AccountServices;
  presentity: PresenceControl;
  notifier: SubscriptionView;
  clock: Clock;
  logger: Logger;
  health: HealthProbes;
  /** From `createApiMetrics`; serves `GET /metrics` and times requests. Without it `/metrics` answers 404. */
  metrics?: ApiMetrics;
  /** Event packages accepted by `?event=`. Default: dialog, presence, message-summary. */
  events?: readonly string[];
  /** Failed api_auth/user_auth per source address before 429 (security.md §5). Default 5 within 300 s. */
  loginLimits?: { maxFailures?: number; windowMs?: number };
  /** Largest accepted request body in bytes (413 beyond). Default 64 KiB. */
  bodyLimitBytes?: number;
  /** History, explanation and live stream (docs/operator-api.md); without it those routes do not exist. */
  operator?: OperatorDeps;
  /** Cluster mode: `GET …/presence` lists the whole cluster through it; without it, this node's subscriptions. */
  clusterList?: ClusterSubscriptionList;
}
