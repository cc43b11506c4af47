import type { Clock } from '../../../lib/clock.js';
import type { Logger } from '../../../lib/logger.js';
import type { AdminDataStore } from '../../../store/admin-data-port.js';
import type { JsonValue } from '../../../store/records.js';
import {
  ADMIN_KINDS,
  adminKey,
  emptyAdminRecords,
  type AdminChange,
  type AdminCursor,
  type AdminEntry,
  type AdminKind,
  type AdminSyncEngine,
} from '../../admin-sync-port.js';
import type { ClusterPart } from '../cluster-node.js';
import type { NodeContext } from '../node-context.js';
import { pause } from '../ticker.js';
import type { MirroredAdminStore } from './mirrored-admin-store.js';

export interface AdminMirrorOptions {
  store: MirroredAdminStore;
  engine: AdminSyncEngine;
  /** After other nodes' changes were applied to the local store: refresh what caches it (realms, trusted peers). */
  onApplied: () => void;
  /** Changes kept while the engine is unreachable (island mode); the oldest go beyond it. Default 10,000. */
  queueLimit?: number;
  /** Pause between attempts while the engine is unreachable. Default 1000 ms. */
  retryMs?: number;
  /** Longest blocking read of the admin stream. Default 5000 ms. */
  blockMs?: number;
}

/** Accounts first on the way in, last on the way out (devices and the rest name an account). */
const CHILD_KINDS: readonly Exclude<AdminKind, 'accounts'>[] = ['devices', 'users', 'apiKeys', 'authTokens', 'trustedPeers'];

/**
 * Admin data shared across the cluster (issue 22 item 3): each node's local admin store stays the synchronous cache
 * its code reads (the SIP path never waits on the engine); every local write is sent to the engine, in order, and
 * the other nodes' writes are read from the admin stream into the local store. At start (and after island mode, a
 * gap or a data loss) the engine's data replaces the local data, except when the engine has none: then this node's
 * data seeds it, once (so the first node's bootstrap account and key become the cluster's).
 */
export class AdminMirror implements ClusterPart {
  private readonly queue: AdminChange[] = [];
  /** Records with a change of this node not yet in the engine, or the rev of its last one there. */
  private readonly own = new Map<string, number>();
  private cursor: AdminCursor = { id: '0', rev: 0 };
  /**
   * Moves when a resync starts or is asked for: a stream read begun before (on the cursor the resync replaces) is
   * dropped when it returns, so it neither applies entries of the lost data nor overwrites the new cursor.
   */
  private generation = 0;
  private synced = false;
  private up = true;
  private running = false;
  private loop: Promise<void> | undefined;
  private pumping: Promise<void> | undefined;
  private syncing: Promise<void> | undefined;
  private dropped = 0;
  private node = '';
  private clock!: Clock;
  private logger!: Logger;
  private readonly local: AdminDataStore;

  constructor(private readonly opts: AdminMirrorOptions) {
    this.local = opts.store.local;
  }

  /** Changes waiting for the engine. */
  get pending(): number {
    return this.queue.length;
  }

  /** Whether the local store holds the engine's data (a first sync happened and no resync is due). */
  get isSynced(): boolean {
    return this.synced && this.up;
  }

  async start(ctx: NodeContext): Promise<void> {
    this.node = ctx.node;
    this.clock = ctx.clock;
    this.logger = ctx.logger.child({ part: 'admin' });
    this.opts.store.sink = (change) => this.enqueue(change);
    this.running = true;
    // Before the first start's bootstrap (main.ts runs it once the listeners are up): it must see the shared accounts.
    try {
      await this.sync();
    } catch (err) {
      this.failed(err);
    }
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.opts.store.sink = undefined;
    await this.opts.engine.close();
    await this.loop;
  }

  onReturn(): void {
    this.resyncNow();
  }

  onEpochChange(): void {
    this.resyncNow();
  }

  /**
   * Resyncs (re-seeding an engine that lost its data) at once rather than when the loop's blocking read ends (up to
   * `blockMs`): the node sees the loss from its heartbeat within a second, and until the re-seed no write of any node
   * is taken (ADMIN_WRITE refuses an unseeded engine).
   */
  private resyncNow(): void {
    this.synced = false;
    this.generation++;
    if (this.running) void this.sync().catch((err: unknown) => this.failed(err));
  }

  private enqueue(change: AdminChange): void {
    if (this.queue.length >= (this.opts.queueLimit ?? 10_000)) {
      const gone = this.queue.shift()!;
      if (this.dropped++ === 0) this.logger.warn({ kind: gone.kind }, 'admin changes dropped: the island-mode queue is full');
    }
    this.queue.push(change);
    const k = recordKey(change);
    if (k !== undefined) this.own.set(k, Infinity);
    if (this.up) void this.pump().catch(() => (this.synced || !this.up ? undefined : this.sync().catch(() => undefined)));
  }

  /** Sends queued changes in order, one at a time; a failure leaves the change at the head for the next attempt. */
  private pump(): Promise<void> {
    if (this.pumping === undefined) {
      const p = this.drain().finally(() => {
        if (this.pumping === p) this.pumping = undefined;
      });
      this.pumping = p;
    }
    return this.pumping;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const change = this.queue[0]!;
      let rev: number;
      try {
        rev = await this.opts.engine.write(this.node, change);
      } catch (err) {
        this.failed(err);
        throw err;
      }
      if (rev === 0) {
        // The engine has no admin data (a first start, or it lost it): seed it with the whole local data, which
        // holds this change, instead of making this one change the cluster's data.
        this.synced = false;
        throw new Error('admin engine not seeded');
      }
      this.queue.shift();
      const k = recordKey(change);
      // Still pending when a later change of the same record waits in the queue.
      if (k !== undefined && !this.queue.some((c) => recordKey(c) === k)) this.own.set(k, rev);
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (!this.up || !this.synced) {
          await this.sync();
          continue;
        }
        const generation = this.generation;
        const batch = await this.opts.engine.read(this.cursor, 500, this.opts.blockMs ?? 5000);
        if (!this.running) break;
        if (generation !== this.generation) continue;
        this.apply(batch.entries);
        this.cursor = batch.cursor;
        if (batch.gap) this.synced = false;
      } catch (err) {
        if (!this.running) break;
        this.failed(err);
        await pause(this.clock, this.opts.retryMs ?? 1000);
      }
    }
  }

  /**
   * An empty engine (first start, or after a data loss) is seeded with the local data, which already holds the queued
   * changes: the queue then has nothing left to send. Otherwise the queued changes go first and the engine's data,
   * which now holds them, replaces the local data.
   */
  private sync(): Promise<void> {
    if (this.syncing === undefined) {
      const p = this.syncNow().finally(() => {
        if (this.syncing === p) this.syncing = undefined;
      });
      this.syncing = p;
    }
    return this.syncing;
  }

  /** Until no resync was asked for while one ran (its snapshot may predate the loss it was asked for). */
  private async syncNow(): Promise<void> {
    let generation: number;
    do {
      generation = ++this.generation;
      await this.syncOnce();
    } while (generation !== this.generation && this.running);
    this.synced = true;
    this.opts.onApplied();
  }

  private async syncOnce(): Promise<void> {
    let snap = await this.opts.engine.snapshot(this.node, this.localRecords());
    if (snap.seededNow) {
      for (const c of this.queue.splice(0)) {
        const k = recordKey(c);
        if (k !== undefined) this.own.delete(k);
      }
    } else if (this.queue.length > 0) {
      await this.pump();
      snap = await this.opts.engine.snapshot(this.node);
    }
    // The snapshot holds every own change committed before it, and its cursor is past their entries: their revs are
    // of no more use, and after a data loss (revs start again at 1) they would hide other nodes' later changes.
    for (const [k, rev] of this.own) if (rev !== Infinity) this.own.delete(k);
    if (!this.up) this.logger.info({ dropped: this.dropped }, 'admin data: engine reachable again, local copy resynced');
    this.up = true;
    this.dropped = 0;
    if (snap.seeded && !snap.seededNow) this.replaceLocal(snap.records);
    this.cursor = snap.cursor;
  }

  private failed(err: unknown): void {
    if (!this.up) return;
    this.up = false;
    this.logger.warn({ err: (err as Error)?.message ?? String(err) }, 'admin data: engine unreachable, local writes queued');
  }

  private apply(entries: AdminEntry[]): void {
    let applied = false;
    for (const e of entries) {
      const change = e.change;
      if (change.op === 'seed') {
        if (e.origin !== this.node) this.synced = false;
        continue;
      }
      const k = recordKey(change);
      if (e.origin === this.node) {
        if (k !== undefined && this.own.get(k) === e.rev) this.own.delete(k);
        continue;
      }
      // This node changed the record later than this entry (or is still sending that change): its own change wins,
      // as it does in the engine.
      if (k !== undefined && (this.own.get(k) ?? 0) > e.rev) continue;
      applyTo(this.local, change);
      applied = true;
    }
    if (applied) this.opts.onApplied();
  }

  private localRecords(): Record<AdminKind, JsonValue[]> {
    const out = emptyAdminRecords();
    const accounts = this.local.accounts.loadAll();
    out.accounts = accounts as unknown as JsonValue[];
    for (const a of accounts) {
      out.devices.push(...(this.local.devices.findByAccount(a.id) as unknown as JsonValue[]));
      out.users.push(...(this.local.users.findByAccount(a.id) as unknown as JsonValue[]));
      out.apiKeys.push(...(this.local.apiKeys.findByAccount(a.id) as unknown as JsonValue[]));
      out.trustedPeers.push(...(this.local.trustedPeers.findByAccount(a.id) as unknown as JsonValue[]));
      // Hashes only: a seed after a data loss keeps every client's token (the CLI's saved one, the board's).
      out.authTokens.push(...(this.local.authTokens.findByAccount(a.id) as unknown as JsonValue[]));
    }
    return out;
  }

  /** The engine wins: every local record is replaced by the engine's, records it lacks go. */
  private replaceLocal(records: Record<AdminKind, JsonValue[]>): void {
    const local = this.local;
    const ids = new Set<string>([...local.accounts.loadAll().map((a) => a.id), ...records.accounts.map((r) => adminKey('accounts', r))]);
    for (const id of ids) for (const kind of CHILD_KINDS) local[kind].deleteByAccount(id);
    const keep = new Set(records.accounts.map((r) => adminKey('accounts', r)));
    for (const a of local.accounts.loadAll()) if (!keep.has(a.id)) local.accounts.delete(a.id);
    for (const kind of ADMIN_KINDS) for (const r of records[kind]) applyTo(local, { op: 'put', kind, key: adminKey(kind, r), record: r });
  }
}

function recordKey(change: AdminChange): string | undefined {
  return change.op === 'put' || change.op === 'delete' ? `${change.kind}\u0000${change.key}` : undefined;
}

/** One change to the local store (records are the port's own shapes, as JSON). */
function applyTo(local: AdminDataStore, change: AdminChange): void {
  const repo = local[change.kind] as unknown as {
    put(r: unknown): void;
    delete(k: string): void;
    deleteByAccount(a: string): number;
    deleteIdle?(cutoff: number): number;
  };
  if (change.op === 'put') repo.put(change.record);
  else if (change.op === 'delete') repo.delete(change.key);
  else if (change.op === 'deleteByAccount') repo.deleteByAccount(change.accountId);
  else repo.deleteIdle?.(change.cutoff);
}
