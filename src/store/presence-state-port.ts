/**
 * The presence-state port: subscriptions, publications, resource states (manual state and package history) and
 * mailbox counts. The notifier and the presentity service keep this state live in memory and use the port as a
 * write-behind log: they write every change as it happens and read everything back once at start-up. Nothing here
 * names SQLite, so a distributed engine can implement it when Piston runs as a cluster.
 *
 * It follows the rules of ports.ts, and splits its calls by who waits for them:
 * - Writes (`put`, `delete`, `deleteResource`) and `nextSeq` answer at once and return nothing to wait for. They sit
 *   on the SIP paths (every SUBSCRIBE, NOTIFY answer and PUBLISH), which must not gain a round trip: a backend
 *   may buffer them (write-behind, as SQLite does) and reports what its flushes meet through `writeHealth()`.
 * - Reads (`loadAll`, `get`, `count`) answer with Promises, so that an engine answering over the network (Redis, for
 *   the cluster) can sit behind the port. They run at start-up (restore) and on admin and test paths only. A read
 *   answers as of the moment it was called: it reflects every write made before the call (ports.ts rule 2), and none
 *   made after it, whenever its Promise settles.
 */
import type { MailboxRecord, PublicationRecord, ResourceStateRecord, SubscriptionRecord } from './records.js';

/** The primary key of a publication (RFC 3903 §4: an ETag is scoped to its resource and event). */
export interface PublicationKey {
  resource: string;
  event: string;
  etag: string;
}

export interface SubscriptionRepository {
  /** Every stored subscription, expired ones included: used once at start-up to restore dialogs. */
  loadAll(): Promise<SubscriptionRecord[]>;
  /** By dialog id (`subscriptionId(callId, localTag, remoteTag)`). */
  get(id: string): Promise<SubscriptionRecord | undefined>;
  count(): Promise<number>;
  /** Upsert by `record.id`. */
  put(record: SubscriptionRecord): void;
  delete(id: string): void;
}

export interface PublicationRepository {
  /** Every stored publication in ascending `seq` (arrival) order. */
  loadAll(): Promise<PublicationRecord[]>;
  get(key: PublicationKey): Promise<PublicationRecord | undefined>;
  count(): Promise<number>;
  /**
   * A sequence number larger than any this store has handed out or held; stamps `PublicationRecord.seq` on the
   * PUBLISH path, so it answers at once (from a counter the backend keeps, not a round trip).
   */
  nextSeq(): number;
  /** Upsert by (resource, event, etag). */
  put(record: PublicationRecord): void;
  delete(key: PublicationKey): void;
  /** Removes every publication of `resource` (optionally only of `event`). */
  deleteResource(resource: string, event?: string): void;
}

export interface ResourceStateRepository {
  loadAll(): Promise<ResourceStateRecord[]>;
  get(resource: string): Promise<ResourceStateRecord | undefined>;
  /** Upsert by `record.resource`. */
  put(record: ResourceStateRecord): void;
  delete(resource: string): void;
}

export interface MailboxRepository {
  loadAll(): Promise<MailboxRecord[]>;
  get(mailbox: string): Promise<MailboxRecord | undefined>;
  /** Upsert by `record.mailbox`. */
  put(record: MailboxRecord): void;
  delete(mailbox: string): void;
}

/**
 * Whether the store can make writes durable now, for health, metrics and the SIP handlers that refuse new state
 * rather than acknowledge what would be lost. A write-behind backend learns it from its flushes: a failed flush
 * keeps its writes and retries, and the store is writable again once one commits.
 */
export interface StoreWriteHealth {
  readonly writable: boolean;
  /** What the failing flushes report, while not writable: the backend's code (e.g. `SQLITE_CORRUPT`) and message. */
  readonly fault: { readonly code: string; readonly message: string; readonly since: number } | null;
  /** Flushes that failed since the store opened. */
  readonly failedFlushes: number;
}

/** The presence side of a store: what the notifier, the presentity service and their restore take. */
export interface PresenceStateStore {
  readonly subscriptions: SubscriptionRepository;
  readonly publications: PublicationRepository;
  readonly resources: ResourceStateRepository;
  readonly mailboxes: MailboxRepository;
  /**
   * Whether writes reach durable storage now, for /healthz, the metrics and the SIP handlers that refuse new state
   * rather than acknowledge what would be lost. Cheap enough to ask on every request that would create state;
   * answers after `close()` too.
   */
  writeHealth(): StoreWriteHealth;
}
