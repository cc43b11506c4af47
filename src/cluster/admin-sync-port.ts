/**
 * The admin-data side of the cluster engine (issue 22 item 3, cluster.md §5 "admin data ... written through"): every
 * node keeps its own synchronous admin store as the cache its code reads, and mirrors each write here; the other
 * nodes apply it from a change stream. Records travel as JSON, one per (kind, key); a change is one atomic write plus
 * one stream entry carrying a cluster-wide admin `rev` (consecutive, so a reader detects lost entries exactly).
 */
import type { JsonValue } from '../store/records.js';

/** The admin store's repositories, as the engine names them. */
export const ADMIN_KINDS = ['accounts', 'devices', 'users', 'apiKeys', 'authTokens', 'trustedPeers'] as const;
export type AdminKind = (typeof ADMIN_KINDS)[number];

/**
 * One admin write. `put`/`delete` name one record; `deleteByAccount` and `deleteIdle` (tokens last used at or before
 * `cutoff`) are applied as operations, so every copy removes the same records as the writer did without listing them.
 */
export type AdminChange =
  | { op: 'put'; kind: AdminKind; key: string; record: JsonValue }
  | { op: 'delete'; kind: AdminKind; key: string }
  | { op: 'deleteByAccount'; kind: AdminKind; accountId: string }
  | { op: 'deleteIdle'; kind: 'authTokens'; cutoff: number };

export interface AdminEntry {
  /** Stream position (`id` of Redis Streams; opaque). */
  id: string;
  rev: number;
  origin: string;
  /** `seed`: a node pushed its whole data into an empty engine; readers reload. */
  change: AdminChange | { op: 'seed' };
}

export interface AdminCursor {
  id: string;
  rev: number;
}

export interface AdminSnapshot {
  /** Records by kind, each as JSON; empty when `seeded` is false. */
  records: Record<AdminKind, JsonValue[]>;
  /** False when the engine held no admin data (and nothing was offered to seed it). */
  seeded: boolean;
  /** True when this call's `seed` became the engine's data. */
  seededNow: boolean;
  /** Where reading the stream resumes after this snapshot. */
  cursor: AdminCursor;
}

export interface AdminBatch {
  entries: AdminEntry[];
  /** Entries were lost (trimmed, or the engine lost its data): reload a snapshot. */
  gap: boolean;
  cursor: AdminCursor;
}

export interface AdminSyncEngine {
  /**
   * The engine's admin data and stream position, in one atomic step. When the engine holds none and `seed` is given,
   * `seed` becomes the engine's data first (one `seed` entry): so the first node's records (its bootstrap account and
   * key) become the cluster's, and two nodes seeding at once cannot both win.
   */
  snapshot(origin: string, seed?: Record<AdminKind, JsonValue[]>): Promise<AdminSnapshot>;
  /**
   * Applies one change and appends its entry; answers its rev, or 0 (nothing written) when the engine holds no admin
   * data: seed it through `snapshot` first.
   */
  write(origin: string, change: AdminChange): Promise<number>;
  /** Entries after `cursor`, waiting up to `blockMs` when there are none. */
  read(cursor: AdminCursor, count: number, blockMs: number): Promise<AdminBatch>;
  close(): Promise<void>;
}

/** The key of a record of `kind` (tokens and API keys are keyed by their hash). */
export function adminKey(kind: AdminKind, record: JsonValue): string {
  const r = record as Record<string, JsonValue>;
  const key = kind === 'apiKeys' ? r.keyHash : kind === 'authTokens' ? r.tokenHash : r.id;
  return String(key);
}

export function emptyAdminRecords(): Record<AdminKind, JsonValue[]> {
  return { accounts: [], devices: [], users: [], apiKeys: [], authTokens: [], trustedPeers: [] };
}

/** Which records an operation entry removes (the same rule for every copy and both engines). */
export function removedByOp(change: AdminChange, record: JsonValue): boolean {
  const r = record as Record<string, JsonValue>;
  if (change.op === 'deleteByAccount') return r.accountId === change.accountId;
  if (change.op === 'deleteIdle') return typeof r.lastUsedAt === 'number' && r.lastUsedAt <= change.cutoff;
  return false;
}

/** Consecutive revs after the cursor, or a gap at the first that is not. Both adapters answer through it. */
export function batchOf(cursor: AdminCursor, entries: AdminEntry[]): AdminBatch {
  let rev = cursor.rev;
  const ok: AdminEntry[] = [];
  for (const e of entries) {
    if (e.rev !== rev + 1) return { entries: ok, gap: true, cursor: { id: e.id, rev: e.rev } };
    ok.push(e);
    rev = e.rev;
  }
  const last = ok[ok.length - 1]!;
  return { entries: ok, gap: false, cursor: { id: last.id, rev: last.rev } };
}
