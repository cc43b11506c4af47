/**
 * The persistence ports, two of them, so that each consumer takes only the side it needs and an engine can serve one
 * side without the other:
 * - admin data (admin-data-port.ts): accounts, devices, users, API keys, auth tokens; taken by the accounts services,
 *   the API and the admin CLI;
 * - presence state (presence-state-port.ts): subscriptions, publications, resource states, mailbox counts; taken by
 *   the notifier, the presentity service and their restore.
 * A backend may implement both over one database (SQLite: one file, one connection; memory: one process): that is a
 * StoreBackend, which also owns the lifecycle (flush, close) both sides share. main.ts opens one and hands each
 * consumer its side. The presence side's reads answer with Promises (presence-state-port.ts says why); the admin
 * side answers at once.
 *
 * The rules every backend honours on both sides (test/store/admin-contract.ts and presence-contract.ts check them
 * against each backend):
 * 1. Writes (`put`, `delete`, `delete…`) are synchronous calls that may be buffered. They are durable once `flush()`
 *    has returned; a backend may also flush on its own (the SQLite one does so every `flushIntervalMs`).
 * 2. Read-your-writes: every read through a store reflects every write made earlier through the same store,
 *    whether or not it has been flushed yet. A read that answers with a Promise (the presence side's) answers as of
 *    its call: every write made before the call, none made after it.
 * 3. Records are values: `put` keeps a copy, and every read returns fresh objects. Mutating a record after `put`,
 *    or mutating what a read returned, never changes what the store holds.
 * 4. `put` is an upsert on the record's key. `delete` of a missing key is a no-op.
 * 5. List results come in no particular order unless a method says otherwise.
 * 6. After `close()` every method except `close()` (idempotent) and `writeHealth()` throws a StoreError with code
 *    `store_closed`; a read that answers with a Promise rejects with it instead.
 * 7. One process owns a store at a time; backends need not guard against concurrent writers.
 */
import type { AdminDataStore } from './admin-data-port.js';
import type { PresenceStateStore } from './presence-state-port.js';

export type * from './admin-data-port.js';
export type * from './presence-state-port.js';

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

/** What a store has whichever sides it serves: where it is, and making its writes durable. */
export interface StoreLifecycle {
  readonly ready: StoreReadyInfo;
  /** Writes everything pending now; durable when it returns. */
  flush(): void;
  /** Flushes, then releases the backend. Idempotent. */
  close(): void;
}

/** One backend serving both sides over one database, as `openSqliteStore` and `createMemoryStore` return it. */
export interface StoreBackend extends AdminDataStore, PresenceStateStore, StoreLifecycle {}

