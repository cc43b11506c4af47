import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { CheckpointReply, CheckpointWorkerData } from './checkpoint-protocol.js';
import { checkpointThread } from './checkpoint-worker.js';

/** SQLite's own default: the connection that commits checkpoints once the WAL holds this many pages. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;
/**
 * While the thread runs, the event loop's connection checkpoints only if the WAL grows this large anyway (~40 MB of
 * 4 KB pages): a thread that stopped answering must not let the WAL grow without bound.
 */
const BACKSTOP_AUTOCHECKPOINT = 10_000;
/** How long close() waits for the thread to close its connection, so that ours is the last and removes the WAL. */
const CLOSE_WAIT_MS = 2000;

const THREAD_SOURCE = `(${checkpointThread.toString()})(require)`;
const SQLITE_MODULE = createRequire(import.meta.url).resolve('better-sqlite3');

export interface CheckpointStats {
  requested: number;
  done: number;
  failed: number;
  /** Duration of the slowest checkpoint so far, in the thread. */
  maxMs: number;
  /** WAL frames written and copied back at the last checkpoint (SQLite's `log` and `checkpointed`). */
  lastLog: number;
  lastCheckpointed: number;
}

export interface WalCheckpointerOptions {
  location: string;
  clock: Clock;
  logger: Logger;
  busyTimeoutMs: number;
  /** Least time between two checkpoints. */
  minIntervalMs: number;
  /** JavaScript the thread runs (CommonJS, `require` in scope); tests give one that fails. Default: checkpointThread. */
  threadSource?: string;
}

/**
 * Moves WAL checkpoints off the event loop (measured: with SQLite's automatic checkpoints, a commit of 20-56 rows
 * that ran one took 8-16 ms instead of under 2 ms, three times in 13 s of 100 PUBLISH/s, delaying every NOTIFY behind
 * it).
 * A worker thread with its own connection checkpoints after commits, at most once per `minIntervalMs`; the event
 * loop's connection keeps a large automatic threshold as a backstop only. If the thread cannot start or dies,
 * SQLite's default automatic checkpoints come back and the server goes on as before.
 */
export class WalCheckpointer {
  readonly stats: CheckpointStats = { requested: 0, done: 0, failed: 0, maxMs: 0, lastLog: 0, lastCheckpointed: 0 };
  private worker: Worker | undefined;
  private ready = false;
  private inFlight = false;
  private lastRequest = -Infinity;
  private readonly closed = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly db: Database,
    private readonly opts: WalCheckpointerOptions,
  ) {
    const workerData: CheckpointWorkerData = {
      sqliteModule: SQLITE_MODULE,
      location: opts.location,
      busyTimeoutMs: opts.busyTimeoutMs,
      closed: this.closed,
    };
    let worker: Worker;
    try {
      worker = new Worker(opts.threadSource ?? THREAD_SOURCE, { eval: true, workerData });
    } catch (err) {
      // No thread (e.g. the process is out of resources): SQLite keeps checkpointing on its own, as before.
      opts.logger.warn({ err: String(err) }, 'no WAL checkpoint thread; checkpoints stay on the event loop');
      return;
    }
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT}`);
    // A forgotten close() must not keep the process alive.
    worker.unref();
    worker.on('message', (reply: CheckpointReply) => this.onReply(reply));
    worker.on('error', (err: Error) => this.fallBack(`checkpoint thread failed: ${err.message}`));
    worker.on('exit', (code: number) => this.fallBack(`checkpoint thread exited with code ${code}`));
    this.worker = worker;
  }

  /** Whether checkpoints currently run on the thread (false before it is up and after a fallback or close). */
  get active(): boolean {
    return this.worker !== undefined && this.ready;
  }

  /** Called after each commit: asks for a checkpoint unless one is running or the last was asked for too recently. */
  committed(): void {
    if (this.worker === undefined || this.inFlight) return;
    const now = this.opts.clock.now();
    if (now - this.lastRequest < this.opts.minIntervalMs) return;
    this.lastRequest = now;
    this.inFlight = true;
    this.stats.requested++;
    this.worker.postMessage('checkpoint');
  }

  /**
   * Stops the thread. Synchronous like the store's close(): waits (bounded) for the thread to close its connection,
   * so that the caller's connection closes last and SQLite checkpoints and removes the WAL file.
   */
  close(): void {
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    if (this.ready) {
      worker.postMessage('close');
      Atomics.wait(this.closed, 0, 0, CLOSE_WAIT_MS);
    }
    void worker.terminate();
  }

  private onReply(reply: CheckpointReply): void {
    switch (reply.kind) {
      case 'ready':
        this.ready = true;
        return;
      case 'done':
        this.inFlight = false;
        this.stats.done++;
        this.stats.maxMs = Math.max(this.stats.maxMs, reply.ms);
        this.stats.lastLog = reply.log;
        this.stats.lastCheckpointed = reply.checkpointed;
        return;
      case 'failed':
        this.inFlight = false;
        this.stats.failed++;
        this.opts.logger.warn({ err: reply.error }, 'WAL checkpoint failed; the next commit asks again');
        if (!this.ready) this.fallBack('checkpoint thread could not open the database');
        return;
    }
  }

  /** Back to SQLite's automatic checkpoints on the event loop's connection. */
  private fallBack(reason: string): void {
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    this.ready = false;
    this.opts.logger.warn({ reason }, 'WAL checkpoints run on the event loop again');
    void worker.terminate();
    try {
      this.db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
    } catch {
      // The store is closing; nothing left to checkpoint for.
    }
  }
}
