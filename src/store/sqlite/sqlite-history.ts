import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { HistoryQuery, HistoryRepository, StoredHistoryEntry } from '../history-port.js';

/** Its own file beside piston.sqlite: a bounded, disposable log whose writes never wait on the presence state's WAL. */
export const HISTORY_FILE_NAME = 'history.sqlite';

/**
 * The history's stored kinds in SQLite. One row per entry: seq, time, resource, kind and the entry as JSON. Losing the
 * file loses only history, so it is opened with relaxed durability (synchronous=NORMAL under WAL).
 */
export class SqliteHistoryRepository implements HistoryRepository {
  private readonly insert: Database.Statement;
  private readonly maxStmt: Database.Statement;
  private readonly pruneStmt: Database.Statement;
  private readonly appendAll: (entries: readonly StoredHistoryEntry[]) => void;
  private closed = false;

  private constructor(private readonly db: Database.Database) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`CREATE TABLE IF NOT EXISTS history (
      seq INTEGER PRIMARY KEY,
      at INTEGER NOT NULL,
      resource TEXT NOT NULL,
      kind TEXT NOT NULL,
      entry TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS history_resource ON history (resource, seq);
    CREATE INDEX IF NOT EXISTS history_at ON history (at);`);
    this.insert = db.prepare('INSERT OR REPLACE INTO history (seq, at, resource, kind, entry) VALUES (?, ?, ?, ?, ?)');
    this.maxStmt = db.prepare('SELECT COALESCE(MAX(seq), 0) AS m FROM history');
    this.pruneStmt = db.prepare('DELETE FROM history WHERE at < ?');
    this.appendAll = db.transaction((entries: readonly StoredHistoryEntry[]) => {
      for (const e of entries) this.insert.run(e.seq, e.at, e.resource, e.kind, JSON.stringify(e));
    });
  }

  /** Opens (or creates) `<dataDir>/history.sqlite`. */
  static open(dataDir: string): SqliteHistoryRepository {
    fs.mkdirSync(dataDir, { recursive: true });
    return new SqliteHistoryRepository(new Database(path.join(dataDir, HISTORY_FILE_NAME)));
  }

  append(entries: readonly StoredHistoryEntry[]): void {
    if (this.closed || entries.length === 0) return;
    this.appendAll(entries);
  }

  query(q: HistoryQuery): StoredHistoryEntry[] {
    if (this.closed || q.resources.length === 0) return [];
    const where = [`resource IN (${q.resources.map(() => '?').join(',')})`, 'seq < ?'];
    const args: unknown[] = [...q.resources, q.beforeSeq];
    if (q.since !== undefined) {
      where.push('at >= ?');
      args.push(q.since);
    }
    if (q.kind !== undefined) {
      where.push('kind = ?');
      args.push(q.kind);
    }
    args.push(q.limit);
    const rows = this.db
      .prepare(`SELECT entry FROM history WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`)
      .all(...args) as { entry: string }[];
    return rows.map((r) => JSON.parse(r.entry) as StoredHistoryEntry);
  }

  maxSeq(): number {
    if (this.closed) return 0;
    return (this.maxStmt.get() as { m: number }).m;
  }

  prune(olderThan: number): number {
    if (this.closed) return 0;
    return this.pruneStmt.run(olderThan).changes;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
