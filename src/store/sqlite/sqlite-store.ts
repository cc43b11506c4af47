/**
 * The SQLite backend of both persistence ports, admin data and presence state (better-sqlite3, one file
 * `<dataDir>/piston.sqlite`, one connection on the event loop).
 *
 * Durability, and what a kill -9 costs. Writes are buffered in memory, coalesced per key, and committed in one
 * transaction when the first buffered write is `flushIntervalMs` (50 ms by default) old, when more than
 * `maxPendingWrites` keys wait, on `flush()`, and on `close()`. The journal is WAL with `synchronous = NORMAL`:
 * a committed transaction is in the WAL file, which the OS keeps when the process dies, so a process crash loses
 * only what was still buffered. That is at most one interval of changes (50 ms) plus however late the flush timer
 * fires behind a busy event loop and the commit itself takes; we budget another 50 ms for that, so a kill -9 loses
 * about the last 100 ms of changes. (A power cut or OS crash may also lose the last commits since the WAL was
 * last synced, as NORMAL allows; the file stays consistent either way.) Subscriptions are refreshed by the
 * watchers and publications by the PBX, so that loss heals; but a restored `localCseq` or `version` may be a few
 * NOTIFYs behind what was sent, and both must never go back (RFC 3261 §12.2.1.1, RFC 4235 §4.1), so whoever
 * restores subscriptions should add headroom to them rather than trust them as exact.
 *
 * Faults. A flush that fails (a damaged page gives SQLITE_CORRUPT, a full disk SQLITE_FULL, a lock SQLITE_BUSY) rolls
 * back and keeps its writes for the next attempt, and `writeHealth()` reports the fault until one commits, so that
 * /healthz, the metrics and the SIP handlers can say so instead of acknowledging what may never be written.
 * A damaged page that start-up does not read is found only by the first flush that touches it.
 *
 * Checkpoints. Copying the WAL back into the database ends with an fsync; a worker thread does it
 * (wal-checkpointer.ts), so no commit on the event loop waits for one.
 *
 * Reads. Lookups by key consult the buffer first (read-your-writes at no cost); whole-table reads (loadAll, counts)
 * first flush the buffer. Those run at start-up and for the admin API; the notifier's and the presentity service's
 * hot paths keep their own state in memory.
 *
 * Start-up cost, measured once (scratch script, not a test): loadAll of 100,000 subscriptions, each with an
 * 800-byte last NOTIFY body (157 MB file), took 1.3-1.8 s on a shared 2-core VM under load average ~3, and 0.9 s
 * without bodies. Rows are streamed with `.iterate()` in raw (array) mode and mapped positionally: the first
 * version (row objects from `.all()`, keys renamed into a second object) took 8.7 s, and raw arrays from `.all()`
 * 2.6 s, on the same machine. The body dominates: it is most of the 157 MB that must become JS strings.
 *
 * The admin tables (accounts, devices, users, API keys, auth tokens; sqlite-admin.ts) bypass the buffer and are written
 * through at once: they change rarely, and a 201 for a new account must not be lost to a crash a moment later.
 *
 * Schema changes go through migrations.ts, keyed by `PRAGMA user_version`.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Clock } from '../../lib/clock.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import type {
  AccountRepository,
  ApiKeyRepository,
  AuthTokenRepository,
  DeviceRepository,
  MailboxRepository,
  ResourceStateRepository,
  StoreBackend,
  StoreReadyInfo,
  StoreWriteHealth,
  TrustedPeerRepository,
  UserRepository,
} from '../ports.js';
import { StoreError } from '../store-error.js';
import { mailboxesTable } from './mailboxes-table.js';
import { migrate, migrations, type Migration } from './migrations.js';
import { resourceStatesTable } from './resource-states-table.js';
import {
  SqliteAccountRepository,
  SqliteApiKeyRepository,
  SqliteAuthTokenRepository,
  SqliteDeviceRepository,
  SqliteTrustedPeerRepository,
  SqliteUserRepository,
} from './sqlite-admin.js';
import { SqliteKeyedRepository } from './sqlite-keyed.js';
import { SqlitePublicationRepository } from './sqlite-publications.js';
import { SqliteSubscriptionRepository } from './sqlite-subscriptions.js';
import { WalCheckpointer, type CheckpointStats } from './wal-checkpointer.js';
import { WriteBehind } from './write-behind.js';

export const SQLITE_FILE_NAME = 'piston.sqlite';
const DEFAULT_BUSY_TIMEOUT_MS = 200;

export interface SqliteStoreOptions {
  /** Directory of the database file; created when missing. */
  dataDir: string;
  clock: Clock;
  logger?: Logger;
  /** Age of the oldest buffered write that triggers a flush. Default 50 ms. */
  flushIntervalMs?: number;
  /** Buffered keys beyond which a write flushes at once. Default 1000. */
  maxPendingWrites?: number;
  /**
   * How long a flush waits for a lock held by another connection (a backup or the sqlite3 shell) before it fails
   * and retries on the next interval. It blocks the event loop meanwhile, so keep it short. Default 200 ms.
   */
  busyTimeoutMs?: number;
  /** Schema history; tests pass their own to exercise the migration runner. Default: migrations.ts. */
  migrations?: readonly Migration[];
  /**
   * Least time between two WAL checkpoints, which a worker thread runs (wal-checkpointer.ts); 0 leaves them to
   * SQLite's automatic checkpoints on the event loop. Default 1000 ms.
   */
  checkpointIntervalMs?: number;
}

export class SqliteStore implements StoreBackend {
  readonly ready: StoreReadyInfo;
  readonly subscriptions: SqliteSubscriptionRepository;
  readonly publications: SqlitePublicationRepository;
  readonly resources: ResourceStateRepository;
  readonly mailboxes: MailboxRepository;
  readonly accounts: AccountRepository;
  readonly devices: DeviceRepository;
  readonly users: UserRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly authTokens: AuthTokenRepository;
  readonly trustedPeers: TrustedPeerRepository;
  private readonly writes: WriteBehind;
  private readonly checkpointer: WalCheckpointer | undefined;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    location: string,
    from: number,
    to: number,
    opts: SqliteStoreOptions,
  ) {
    this.ready = { backend: 'sqlite', location, schemaVersion: to, migratedFrom: from === to ? null : from };
    const logger = opts.logger ?? silentLogger;
    const checkpointIntervalMs = opts.checkpointIntervalMs ?? 1000;
    const checkpointer =
      checkpointIntervalMs > 0
        ? new WalCheckpointer(db, {
            location,
            clock: opts.clock,
            logger,
            busyTimeoutMs: opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
            minIntervalMs: checkpointIntervalMs,
          })
        : undefined;
    this.checkpointer = checkpointer;
    this.writes = new WriteBehind(db, opts.clock, logger, {
      flushIntervalMs: opts.flushIntervalMs ?? 50,
      maxPendingWrites: opts.maxPendingWrites ?? 1000,
      location,
      ...(checkpointer ? { afterCommit: () => checkpointer.committed() } : {}),
    });
    const assertOpen = (): void => {
      if (this.closed) throw new StoreError('store_closed', `the store at ${location} is closed`);
    };
    this.subscriptions = new SqliteSubscriptionRepository(db, this.writes, assertOpen);
    this.publications = new SqlitePublicationRepository(db, this.writes, assertOpen);
    this.resources = new SqliteKeyedRepository(db, resourceStatesTable, this.writes, assertOpen);
    this.mailboxes = new SqliteKeyedRepository(db, mailboxesTable, this.writes, assertOpen);
    this.accounts = new SqliteAccountRepository(db, assertOpen);
    this.devices = new SqliteDeviceRepository(db, assertOpen);
    this.users = new SqliteUserRepository(db, assertOpen);
    this.apiKeys = new SqliteApiKeyRepository(db, assertOpen);
    this.authTokens = new SqliteAuthTokenRepository(db, assertOpen);
    this.trustedPeers = new SqliteTrustedPeerRepository(db, assertOpen);
  }

  static open(opts: SqliteStoreOptions): SqliteStore {
    const location = path.join(opts.dataDir, SQLITE_FILE_NAME);
    refuseLostDatabase(location);
    let db: Database.Database;
    try {
      fs.mkdirSync(opts.dataDir, { recursive: true });
      db = new Database(location, { timeout: opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    } catch (cause) {
      throw new StoreError('store_open_failed', `cannot open ${location}: ${String(cause)}; ${CHECK_ACCESS}`);
    }
    try {
      // Migrate first: a file this build must refuse is then left exactly as it was found.
      const { from, to } = migrate(db, opts.migrations ?? migrations, location);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      const store = new SqliteStore(db, location, from, to, opts);
      if (from !== to) (opts.logger ?? silentLogger).info({ location, from, to }, 'store schema migrated');
      return store;
    } catch (cause) {
      db.close();
      if (cause instanceof StoreError) throw cause;
      const code = (cause as { code?: unknown }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new StoreError('store_corrupt', `${location} is not a readable SQLite database (${String(code)}); ` +
          `restore it from a backup, or ${startAfresh(location)}`);
      }
      throw new StoreError('store_open_failed', `cannot open ${location}: ${String(cause)}; ${CHECK_ACCESS}`);
    }
  }

  /** Checkpoints run by the worker thread, undefined when they are left to SQLite (`checkpointIntervalMs: 0`). */
  get walCheckpoints(): (CheckpointStats & { onThread: boolean }) | undefined {
    const c = this.checkpointer;
    return c ? { ...c.stats, onThread: c.active } : undefined;
  }

  writeHealth(): StoreWriteHealth {
    return this.writes.health;
  }

  flush(): void {
    if (this.closed) throw new StoreError('store_closed', `the store at ${this.ready.location} is closed`);
    this.writes.flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.writes.flush();
    } finally {
      // A failed final flush re-arms its retry timer; nothing may run against the closed handle.
      this.writes.stop();
      // The thread's connection closes first, so that this one, the last, checkpoints and removes the WAL file.
      this.checkpointer?.close();
      this.db.close();
    }
  }
}

const CHECK_ACCESS = 'check that the file and its directory exist and that this user may read and write them';

/** The way out of a database that cannot be used: the next start then creates a new one, with a new master account. */
function startAfresh(location: string): string {
  const name = path.basename(location);
  return `move it away (with ${name}-wal and ${name}-shm if they are there) to start afresh with a new master account`;
}

/**
 * A first start (a new database, and with it a new master account and API key) happens only where there is no
 * database file at all. An empty file (a full disk, a failed copy) held a database once, and so did a write-ahead
 * log without its database; opening either would start afresh over the lost data (the old bootstrap key would even
 * work again), so both stop the start. SQLite itself takes a 0-byte file for a new, empty database.
 */
function refuseLostDatabase(location: string): void {
  const size = fileSize(location);
  if (size === 0) {
    throw new StoreError('store_empty', `${location} is empty (0 bytes): the database it held is gone, perhaps to a full ` +
      `disk or a failed copy. Restore it from a backup, or ${startAfresh(location)}`);
  }
  const wal = `${location}-wal`;
  if (size === undefined && (fileSize(wal) ?? 0) > 0) {
    throw new StoreError('store_missing', `${location} is missing, but its write-ahead log ${wal} is there: the database ` +
      `was moved or deleted without it. Put the database back, or move ${wal} away to start afresh with a new master account`);
  }
}

/** Size in bytes, or undefined when there is no such file. */
function fileSize(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError('store_open_failed', `cannot read ${file}: ${String(err)}; ${CHECK_ACCESS}`);
  }
}

/**
 * A start that failed on the database, as a StoreError naming the file and what to do, for the caller to print
 * without a stack trace: the store's own errors as they are, and a SQLite error from what start-up reads (a damaged
 * page in a table it loads) with the advice it calls for. Undefined for failures that are not the database's.
 */
export function storeStartError(err: unknown, dataDir: string): StoreError | undefined {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  const location = path.join(dataDir, SQLITE_FILE_NAME);
  const what = `${code}: ${err instanceof Error ? err.message : String(err)}`;
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
    return new StoreError('store_corrupt', `${location} is damaged (${what}); restore it from a backup, or ${startAfresh(location)}`);
  }
  return new StoreError('store_open_failed', `${location} could not be used (${what}); ${CHECK_ACCESS}, that the disk ` +
    'has room, and that no other program holds the database locked');
}

export function openSqliteStore(opts: SqliteStoreOptions): StoreBackend {
  return SqliteStore.open(opts);
}
