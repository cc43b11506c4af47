import type { HistoryQuery, HistoryRepository, StoredHistoryEntry } from '../history-port.js';

/** The history's stored kinds in memory (tests, and a server without a data directory): entries in seq order. */
export class MemoryHistoryRepository implements HistoryRepository {
  private entries: StoredHistoryEntry[] = [];

  append(entries: readonly StoredHistoryEntry[]): void {
    for (const e of entries) this.entries.push(structuredClone(e));
  }

  query(q: HistoryQuery): StoredHistoryEntry[] {
    const out: StoredHistoryEntry[] = [];
    const wanted = new Set(q.resources);
    for (let i = this.entries.length - 1; i >= 0 && out.length < q.limit; i--) {
      const e = this.entries[i]!;
      if (e.seq >= q.beforeSeq || !wanted.has(e.resource)) continue;
      if (q.since !== undefined && e.at < q.since) break;
      if (q.kind !== undefined && e.kind !== q.kind) continue;
      out.push(structuredClone(e));
    }
    return out;
  }

  maxSeq(): number {
    return this.entries.at(-1)?.seq ?? 0;
  }

  prune(olderThan: number): number {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.at >= olderThan);
    return before - this.entries.length;
  }

  close(): void {}
}
