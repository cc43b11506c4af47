/**
 * The in-memory twin of the Redis admin-data adapter (admin-sync-port.ts): several engines over one
 * `MemoryAdminSyncData` behave as nodes sharing one Redis. `down` makes every call fail (island mode in tests);
 * `wipe()` is an engine that lost its data. Blocking reads wait on the injected Clock.
 */
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { JsonValue } from '../../store/records.js';
import {
  ADMIN_KINDS,
  adminKey,
  emptyAdminRecords,
  removedByOp,
  type AdminBatch,
  type AdminChange,
  type AdminCursor,
  type AdminEntry,
  type AdminKind,
  type AdminSnapshot,
  type AdminSyncEngine,
  batchOf,
} from '../admin-sync-port.js';

export class MemoryAdminSyncData {
  records = new Map<AdminKind, Map<string, string>>();
  entries: AdminEntry[] = [];
  lastRev = 0;
  nextId = 1;
  down = false;
  readonly waiters = new Set<() => void>();

  wipe(): void {
    this.records = new Map();
    this.entries = [];
    this.lastRev = 0;
  }

  append(origin: string, change: AdminEntry['change']): number {
    const rev = ++this.lastRev;
    this.entries.push({ id: String(this.nextId++), rev, origin, change });
    for (const wake of [...this.waiters]) wake();
    return rev;
  }

  table(kind: AdminKind): Map<string, string> {
    let t = this.records.get(kind);
    if (!t) this.records.set(kind, (t = new Map()));
    return t;
  }
}

export class MemoryAdminSync implements AdminSyncEngine {
  constructor(
    readonly data: MemoryAdminSyncData,
    private readonly clock: Clock,
  ) {}

  async snapshot(origin: string, seed?: Record<AdminKind, JsonValue[]>): Promise<AdminSnapshot> {
    this.check();
    const d = this.data;
    let seeded = d.lastRev > 0;
    let seededNow = false;
    if (!seeded && seed && ADMIN_KINDS.some((k) => seed[k].length > 0)) {
      for (const kind of ADMIN_KINDS) for (const r of seed[kind]) d.table(kind).set(adminKey(kind, r), JSON.stringify(r));
      d.append(origin, { op: 'seed' });
      seeded = seededNow = true;
    }
    const records = emptyAdminRecords();
    if (seeded) for (const kind of ADMIN_KINDS) records[kind] = [...d.table(kind).values()].map((v) => JSON.parse(v) as JsonValue);
    const last = d.entries[d.entries.length - 1];
    return { records, seeded, seededNow, cursor: { id: last?.id ?? '0', rev: d.lastRev } };
  }

  async write(origin: string, change: AdminChange): Promise<number> {
    this.check();
    if (this.data.lastRev === 0) return 0;
    const t = this.data.table(change.kind);
    if (change.op === 'put') t.set(change.key, JSON.stringify(change.record));
    else if (change.op === 'delete') t.delete(change.key);
    else for (const [k, v] of t) if (removedByOp(change, JSON.parse(v) as JsonValue)) t.delete(k);
    return this.data.append(origin, change);
  }

  async read(cursor: AdminCursor, count: number, blockMs: number): Promise<AdminBatch> {
    this.check();
    let batch = this.after(cursor, count);
    if (batch.entries.length === 0 && !batch.gap && blockMs > 0) {
      await new Promise<void>((resolve) => {
        let timer: TimerHandle | undefined;
        const done = (): void => {
          this.data.waiters.delete(done);
          timer?.cancel();
          resolve();
        };
        this.data.waiters.add(done);
        timer = this.clock.setTimer(blockMs, done);
      });
      this.check();
      batch = this.after(cursor, count);
    }
    return batch;
  }

  async close(): Promise<void> {
    for (const wake of [...this.data.waiters]) wake();
  }

  private after(cursor: AdminCursor, count: number): AdminBatch {
    const d = this.data;
    const entries = d.entries.filter((e) => Number(e.id) > Number(cursor.id)).slice(0, count);
    if (entries.length === 0) {
      return d.lastRev === cursor.rev ? { entries, gap: false, cursor } : { entries, gap: true, cursor: { id: cursor.id, rev: d.lastRev } };
    }
    return batchOf(cursor, entries);
  }

  private check(): void {
    if (this.data.down) throw new Error('memory admin engine down');
  }
}
