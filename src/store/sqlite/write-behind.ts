import type { Database } from 'better-sqlite3';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { StoreWriteHealth } from '../ports.js';
import { StoreError } from '../store-error.js';

/** A buffered write for one key: the newest record, or a tombstone carrying the delete statement's arguments. */
export type PendingWrite<R> = { kind: 'put'; record: R } | { kind: 'delete'; args: unknown[] };

/**
 * The pending writes of one table, coalesced per key: ten updates to one subscription between flushes cost one
 * row write. Repositories read through `peek()` first, which is what makes reads see unflushed writes.
 */
export class PendingTable<R> {
  private readonly entries = new Map<string, PendingWrite<R>>();

  constructor(
    private readonly owner: WriteBehind,
    private readonly apply: (write: PendingWrite<R>) => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  peek(key: string): PendingWrite<R> | undefined {
    return this.entries.get(key);
  }

  put(key: string, record: R): void {
    this.entries.delete(key); // re-insert so the map keeps last-write order
    this.entries.set(key, { kind: 'put', record });
    this.owner.noteWrite();
  }

  delete(key: string, args: unknown[]): void {
    this.entries.delete(key);
    this.entries.set(key, { kind: 'delete', args });
    this.owner.noteWrite();
  }

  /**
   * Runs inside the flush transaction. A write the database refuses for its content (see `isRecordError`) is
   * reported and skipped: retrying it could never succeed, and it would hold back every other write with it.
   * Any other failure (disk full, I/O) propagates and rolls the whole transaction back.
   */
  applyAll(rejected: RejectedWrite[]): void {
    for (const [key, write] of this.entries) {
      try {
        this.apply(write);
      } catch (err) {
        if (!isRecordError(err)) throw err;
        rejected.push({ key, kind: write.kind, err });
      }
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

export interface RejectedWrite {
  key: string;
  kind: 'put' | 'delete';
  err: unknown;
}

/**
 * Errors that belong to one record rather than to the database: a constraint it breaks (SQLite aborts just that
 * statement and the transaction goes on), or a value better-sqlite3 cannot bind (thrown before SQLite runs).
 */
function isRecordError(err: unknown): boolean {
  if (err instanceof RangeError || err instanceof TypeError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG)/.test(code);
}

export interface WriteBehindOptions {
  flushIntervalMs: number;
  maxPendingWrites: number;
  /** Called after each committed flush (the WAL checkpointer's cue). */
  afterCommit?: () => void;
  /** The database file, named in the fault log. */
  location?: string;
}

/**
 * While flushes fail, retries come every flush interval for this long (a lock held a moment clears at once), then
 * this often: a damaged page fails every attempt, and each attempt re-applies every pending write first.
 */
export const FAILING_RETRY_MS = 1000;

/** A fault is logged when flushes start failing, then at most this often while they go on failing. */
export const FAULT_LOG_INTERVAL_MS = 60_000;

const HEALTHY: StoreWriteHealth = Object.freeze({ writable: true, fault: null, failedFlushes: 0 });

/**
 * Owns the flush schedule for every table of one database: the first buffered write arms one timer on the injected
 * clock; when it fires, or when more than `maxPendingWrites` keys wait, everything pending is written in a single
 * transaction. A failed flush rolls back, keeps every pending write and retries (see FAILING_RETRY_MS), so a full
 * disk delays persistence instead of losing or reordering it. Meanwhile `health` says the store cannot write, and
 * why, until a flush commits again.
 */
export class WriteBehind {
  private readonly tables: PendingTable<never>[] = [];
  private timer: TimerHandle | null = null;
  /** Replaced, never mutated, so callers may keep what they were given. */
  private current: StoreWriteHealth = HEALTHY;
  /** Failed flushes in the current run of failures (0 while writable). */
  private outage = 0;
  private loggedAt = -Infinity;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: WriteBehindOptions,
  ) {}

  table<R>(apply: (write: PendingWrite<R>) => void): PendingTable<R> {
    const t = new PendingTable<R>(this, apply);
    this.tables.push(t as unknown as PendingTable<never>);
    return t;
  }

  get pendingCount(): number {
    let n = 0;
    for (const t of this.tables) n += t.size;
    return n;
  }

  get health(): StoreWriteHealth {
    return this.current;
  }

  noteWrite(): void {
    if (this.current.writable && this.pendingCount > this.options.maxPendingWrites) {
      this.flushQuietly();
      return;
    }
    this.arm();
  }

  /** Writes everything pending in one transaction. Throws StoreError when it cannot commit (pending writes kept). */
  flush(): void {
    this.cancelTimer();
    if (this.pendingCount === 0) return;
    const rejected: RejectedWrite[] = [];
    try {
      this.db.transaction(() => {
        for (const t of this.tables) t.applyAll(rejected);
      })();
    } catch (cause) {
      this.noteFailure(cause);
      this.arm();
      const to = this.options.location === undefined ? '' : ` to ${this.options.location}`;
      throw new StoreError('store_write_failed', `flushing ${this.pendingCount} pending writes${to} failed: ${String(cause)}`);
    }
    for (const t of this.tables) t.clear();
    for (const r of rejected) this.logger.error(r, 'store dropped a write the database refused');
    if (!this.current.writable) this.noteRecovery();
    this.options.afterCommit?.();
  }

  /** Cancels the timer; pending writes stay where they are. */
  stop(): void {
    this.cancelTimer();
  }

  private onTimer(): void {
    this.timer = null;
    this.flushQuietly();
  }

  /** Never throws into a caller's put() or out of a timer: the failure is in `health` and the log, the writes kept. */
  private flushQuietly(): void {
    try {
      this.flush();
    } catch (err) {
      // A StoreError has been counted and logged by noteFailure; anything else is a bug worth its own line.
      if (!(err instanceof StoreError)) this.logger.error({ err }, 'store flush failed');
    }
  }

  /** One error when flushes start failing, then a reminder at most every FAULT_LOG_INTERVAL_MS (not one per retry). */
  private noteFailure(cause: unknown): void {
    const code = (cause as { code?: unknown } | null)?.code;
    const now = this.clock.now();
    const fault = Object.freeze({
      code: typeof code === 'string' ? code : 'unknown',
      message: cause instanceof Error ? cause.message : String(cause),
      since: this.current.fault?.since ?? now,
    });
    this.current = Object.freeze({ writable: false, fault, failedFlushes: this.current.failedFlushes + 1 });
    this.outage++;
    if (this.outage > 1 && now - this.loggedAt < FAULT_LOG_INTERVAL_MS) return;
    this.loggedAt = now;
    const where = { code: fault.code, cause: fault.message, location: this.options.location, pending: this.pendingCount };
    const why = `${fault.code}: ${fault.message}`;
    if (this.outage === 1) this.logger.error(where, `store flush failed; will retry (${why})`);
    else {
      const since = new Date(fault.since).toISOString();
      this.logger.error({ ...where, failedFlushes: this.outage, failingSince: since }, `store flushes still failing; will retry (${why})`);
    }
  }

  private noteRecovery(): void {
    const since = this.current.fault?.since ?? this.clock.now();
    this.logger.info({ failedForMs: this.clock.now() - since, failedFlushes: this.outage }, 'store writes succeed again');
    this.current = Object.freeze({ writable: true, fault: null, failedFlushes: this.current.failedFlushes });
    this.outage = 0;
    this.loggedAt = -Infinity;
  }

  private arm(): void {
    if (this.timer !== null) return;
    const fault = this.current.fault;
    const delay = fault && this.clock.now() - fault.since >= FAILING_RETRY_MS ? FAILING_RETRY_MS : this.options.flushIntervalMs;
    this.timer = this.clock.setTimer(delay, () => this.onTimer());
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
