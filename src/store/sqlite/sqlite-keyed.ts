import type { Database, Statement } from 'better-sqlite3';
import { upsertSql } from './sql-upsert.js';
import type { PendingTable, PendingWrite, WriteBehind } from './write-behind.js';

/** How one single-key table maps to its record type. */
export interface KeyedTableSpec<R, Row extends object> {
  table: string;
  keyColumn: string & keyof Row;
  columns: readonly (string & keyof Row)[];
  keyOf(record: R): string;
  /** Must share nothing mutable with the record: the row is also the buffered copy that later reads are made from. */
  toRow(record: R): Row;
  fromRow(row: Row): R;
}

/**
 * A repository over a table with one text primary key and no other lookups (resource states, mailboxes).
 * All reads are by key or whole-table, so the buffer answers key reads and `loadAll` flushes first.
 */
export class SqliteKeyedRepository<R, Row extends object> {
  private readonly pending: PendingTable<Row>;
  private readonly sql: {
    upsert: Statement<[Row]>;
    delete: Statement<[string]>;
    get: Statement<[string], Row>;
    all: Statement<[], Row>;
  };

  constructor(
    db: Database,
    private readonly spec: KeyedTableSpec<R, Row>,
    private readonly writes: WriteBehind,
    private readonly assertOpen: () => void,
  ) {
    const { table, keyColumn } = spec;
    this.sql = {
      upsert: db.prepare(upsertSql(table, spec.columns, [keyColumn])),
      delete: db.prepare(`DELETE FROM ${table} WHERE ${keyColumn} = ?`),
      get: db.prepare(`SELECT * FROM ${table} WHERE ${keyColumn} = ?`),
      all: db.prepare(`SELECT * FROM ${table}`),
    };
    this.pending = writes.table((w: PendingWrite<Row>) => {
      if (w.kind === 'put') this.sql.upsert.run(w.record);
      else this.sql.delete.run(w.args[0] as string);
    });
  }

  async loadAll(): Promise<R[]> {
    this.assertOpen();
    this.writes.flush();
    return this.sql.all.all().map((row) => this.spec.fromRow(row));
  }

  async get(key: string): Promise<R | undefined> {
    this.assertOpen();
    const w = this.pending.peek(key);
    if (w) return w.kind === 'put' ? this.spec.fromRow(w.record) : undefined;
    const row = this.sql.get.get(key);
    return row && this.spec.fromRow(row);
  }

  put(record: R): void {
    this.assertOpen();
    // Buffering the row rather than a copy of the record: the copy is made once, by the serialisation the flush needs anyway.
    this.pending.put(this.spec.keyOf(record), this.spec.toRow(record));
  }

  delete(key: string): void {
    this.assertOpen();
    this.pending.delete(key, [key]);
  }
}
