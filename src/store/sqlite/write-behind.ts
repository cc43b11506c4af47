import type { Database } from 'better-sqlite3';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
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
}

/**
 * Owns the flush schedule for every table of one database: the first buffered write arms one timer on the injected
 * clock; when it fires, or when more than `maxPendingWrites` keys wait, everything pending is written in a single
 * transaction. A failed flush rolls back, keeps every pending write and retries on the next interval, so a full
 * disk delays persistence instead of losing or reordering it.
 */
export class WriteBehind {
  private readonly tables: PendingTable<never>[] = [];
  private timer: TimerHandle | null = null;
  private failing = false;

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

  noteWrite(): void {
    if (!this.failing && this.pendingCount > this.options.maxPendingWrites) {
      this.flushQuietly('size');
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
      this.failing = true;
      this.arm();
      throw new StoreError('store_write_failed', `flushing ${this.pendingCount} pending writes failed: ${String(cause)}`);
    }
    for (const t of this.tables) t.clear();
    for (const r of rejected) this.logger.error(r, 'store dropped a write the database refused');
    if (this.failing) this.logger.info({}, 'store writes succeed again');
    this.failing = false;
    this.options.afterCommit?.();
  }

  /** Cancels the timer; pending writes stay where they are. */
  stop(): void {
    this.cancelTimer();
  }

  private onTimer(): void {
    this.timer = null;
    this.flushQuietly('interval');
  }

  private flushQuietly(trigger: 'size' | 'interval'): void {
    try {
      this.flush();
    } catch (err) {
      // Never throw into a caller's put() or out of a timer: log, keep the writes, retry on the next interval.
      this.logger.error({ err, trigger, pending: this.pendingCount }, 'store flush failed; will retry');
    }
  }

  private arm(): void {
    if (this.timer === null) this.timer = this.clock.setTimer(this.options.flushIntervalMs, () => this.onTimer());
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
