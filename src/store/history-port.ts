/**
 * The persisted part of the per-resource history (docs/operator-api.md): only the rarer kinds reach it (publications,
 * manual commands, state changes, new subscriptions and removals), never one row per NOTIFY, in batches. Entries are
 * plain JSON objects the store keeps as they are; it reads only their `seq`, `at` and `resource`.
 */
export interface StoredHistoryEntry {
  /** Rises with every event of the server, across restarts (the history continues from `maxSeq`). */
  seq: number;
  /** ms epoch. */
  at: number;
  /** `user@domain`. */
  resource: string;
  kind: string;
  [field: string]: unknown;
}

export interface HistoryQuery {
  /** Any of these resources. */
  resources: readonly string[];
  /** Only entries with a seq below this. */
  beforeSeq: number;
  /** Only entries at or after this ms epoch. */
  since?: number;
  kind?: string;
  limit: number;
}

export interface HistoryRepository {
  /** Appends entries (one transaction for the batch). */
  append(entries: readonly StoredHistoryEntry[]): void;
  /** Newest first. */
  query(q: HistoryQuery): StoredHistoryEntry[];
  /** The highest seq kept, 0 when empty. */
  maxSeq(): number;
  /** Drops entries older than this ms epoch; returns how many went. */
  prune(olderThan: number): number;
  close(): void;
}
