/**
 * The persistence port. The notifier and the presentity service keep live state in memory and use this port as a
 * write-behind log: they write every change as it happens and read everything back once at start-up. Nothing here
 * names SQLite, so a distributed engine can implement the same interfaces when Piston runs as a cluster.
 *
 * The contract every backend honours (test/store/contract.ts checks it against each one):
 * 1. Writes (`put`, `delete`, `delete…`) are synchronous calls that may be buffered. They are durable once `flush()`
 *    has returned; a backend may also flush on its own (the SQLite one does so every `flushIntervalMs`).
 * 2. Read-your-writes: every read through a store reflects every write made earlier through the same store,
 *    whether or not it has been flushed yet.
 * 3. Records are values: `put` keeps a copy, and every read returns fresh objects. Mutating a record after `put`,
 *    or mutating what a read returned, never changes what the store holds.
 * 4. `put` is an upsert on the record's key. `delete` of a missing key is a no-op.
 * 5. "Expired at `now`" means `expiresAt <= now`.
 * 6. List results come in no particular order unless a method says otherwise.
 * 7. After `close()` every method except `close()` (idempotent) throws a StoreError with code `store_closed`.
 * 8. One process owns a store at a time; backends need not guard against concurrent writers.
 *
 * The admin API's repositories (accounts, devices, users, API keys, auth tokens) follow the same rules. Their data is
 * small and changes rarely, so backends may write it through at once; uniqueness (realms, SIP user names) and
 * referential checks are the accounts services' job, as normalisation is the caller's.
 */
import type {
  AccountRecord,
  ApiKeyRecord,
  AuthTokenRecord,
  DeviceRecord,
  MailboxRecord,
  PublicationRecord,
  ResourceStateRecord,
  SubscriptionRecord,
  UserRecord,
} from './records.js';

/** Who watches what, for the "a re-subscribing phone replaces its old subscription" rule (sip-behaviour.md). */
export interface WatcherKey {
  watcherUser: string;
  watcherDomain: string;
  resource: string;
  domain: string;
  event: string;
}

/** The primary key of a publication (RFC 3903 §4: an ETag is scoped to its resource and event). */
export interface PublicationKey {
  resource: string;
  event: string;
  etag: string;
}

export interface SubscriptionRepository {
  /** Every stored subscription, expired ones included: used once at start-up to restore dialogs. */
  loadAll(): SubscriptionRecord[];
  /** By dialog id (`subscriptionId(callId, localTag, remoteTag)`). */
  get(id: string): SubscriptionRecord | undefined;
  /** Subscriptions watching `resource`@`domain`, for one event package or (event omitted) all of them. */
  findByResource(resource: string, domain: string, event?: string): SubscriptionRecord[];
  /** Subscriptions from one watcher to one resource and event, whatever their Call-ID. */
  findByWatcher(key: WatcherKey): SubscriptionRecord[];
  /** Subscriptions whose watched domain is `domain` (an account's realm), optionally for one event. */
  findByDomain(domain: string, event?: string): SubscriptionRecord[];
  /** Subscriptions expired at `now`, i.e. `expiresAt <= now`. */
  findExpired(now: number): SubscriptionRecord[];
  count(): number;
  /** Number of subscriptions per event package; packages with none are absent. */
  countByEvent(): Record<string, number>;
  /** Upsert by `record.id`. */
  put(record: SubscriptionRecord): void;
  delete(id: string): void;
  /** Removes every subscription expired at `now`; returns how many went. */
  deleteExpired(now: number): number;
}

export interface PublicationRepository {
  /** Every stored publication in ascending `seq` (arrival) order. */
  loadAll(): PublicationRecord[];
  get(key: PublicationKey): PublicationRecord | undefined;
  /** Publications for `resource`, optionally of one event, in ascending `seq` order (RFC 3903 §4 aggregation input). */
  findByResource(resource: string, event?: string): PublicationRecord[];
  /** Publications expired at `now`, in ascending `seq` order. */
  findExpired(now: number): PublicationRecord[];
  count(): number;
  /** A sequence number larger than any this store has handed out or held; stamps `PublicationRecord.seq`. */
  nextSeq(): number;
  /** Upsert by (resource, event, etag). */
  put(record: PublicationRecord): void;
  delete(key: PublicationKey): void;
  /** Removes every publication of `resource` (optionally only of `event`); returns how many went. */
  deleteResource(resource: string, event?: string): number;
  /** Removes every publication expired at `now`; returns how many went. */
  deleteExpired(now: number): number;
}

export interface ResourceStateRepository {
  loadAll(): ResourceStateRecord[];
  get(resource: string): ResourceStateRecord | undefined;
  /** Upsert by `record.resource`. */
  put(record: ResourceStateRecord): void;
  delete(resource: string): void;
}

export interface MailboxRepository {
  loadAll(): MailboxRecord[];
  get(mailbox: string): MailboxRecord | undefined;
  /** Upsert by `record.mailbox`. */
  put(record: MailboxRecord): void;
  delete(mailbox: string): void;
}

export interface AccountRepository {
  /** Every account, oldest first (`createdAt`, then `id`): the first one serves unknown domains when so configured. */
  loadAll(): AccountRecord[];
  get(id: string): AccountRecord | undefined;
  /** Exact match on the stored (lower-cased) realm. */
  findByRealm(realm: string): AccountRecord | undefined;
  /** Accounts whose `parentId` is `parentId`. */
  findChildren(parentId: string): AccountRecord[];
  count(): number;
  /** Upsert by `record.id`. */
  put(record: AccountRecord): void;
  delete(id: string): void;
}

export interface DeviceRepository {
  get(id: string): DeviceRecord | undefined;
  findByAccount(accountId: string): DeviceRecord[];
  /** Upsert by `record.id`. */
  put(record: DeviceRecord): void;
  delete(id: string): void;
  /** Removes every device of the account; returns how many went. */
  deleteByAccount(accountId: string): number;
}

export interface UserRepository {
  get(id: string): UserRecord | undefined;
  findByAccount(accountId: string): UserRecord[];
  /** Upsert by `record.id`. */
  put(record: UserRecord): void;
  delete(id: string): void;
  deleteByAccount(accountId: string): number;
}

export interface ApiKeyRepository {
  get(keyHash: string): ApiKeyRecord | undefined;
  findByAccount(accountId: string): ApiKeyRecord[];
  /** Upsert by `record.keyHash`. */
  put(record: ApiKeyRecord): void;
  delete(keyHash: string): void;
  deleteByAccount(accountId: string): number;
}

export interface AuthTokenRepository {
  get(tokenHash: string): AuthTokenRecord | undefined;
  /** Upsert by `record.tokenHash`. */
  put(record: AuthTokenRecord): void;
  delete(tokenHash: string): void;
  deleteByAccount(accountId: string): number;
  /** Removes every token last used at or before `lastUsedAtOrBefore`; returns how many went. */
  deleteIdle(lastUsedAtOrBefore: number): number;
}

/** What was opened, for the start-up log line and the health endpoint. */
export interface StoreReadyInfo {
  backend: 'memory' | 'sqlite';
  /** File path, or null for backends without one. */
  location: string | null;
  /** Schema version in use, or null for schemaless backends. */
  schemaVersion: number | null;
  /** The schema version found before migrating, or null when no migration ran. */
  migratedFrom: number | null;
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

export interface PresenceStore {
  readonly ready: StoreReadyInfo;
  readonly subscriptions: SubscriptionRepository;
  readonly publications: PublicationRepository;
  readonly resources: ResourceStateRepository;
  readonly mailboxes: MailboxRepository;
  readonly accounts: AccountRepository;
  readonly devices: DeviceRepository;
  readonly users: UserRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly authTokens: AuthTokenRepository;
  /** Writes everything pending now; durable when it returns. */
  flush(): void;
  /** Cheap enough to ask on every request that would create state; answers after `close()` too. */
  writeHealth(): StoreWriteHealth;
  /** Flushes, then releases the backend. Idempotent. */
  close(): void;
}
