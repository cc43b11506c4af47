import type { Database, Statement } from 'better-sqlite3';
import { publicationKeyString } from '../keys.js';
import type { PublicationKey, PublicationRepository } from '../presence-state-port.js';
import type { JsonValue, PublicationRecord } from '../records.js';
import { upsertSql } from './sql-upsert.js';
import type { PendingTable, PendingWrite, WriteBehind } from './write-behind.js';

interface PublicationRow {
  resource: string;
  event: string;
  etag: string;
  seq: number;
  content_type: string;
  body: Buffer;
  document: string | null;
  expires_at: number;
  updated_at: number;
}

const COLUMNS = [
  'resource', 'event', 'etag', 'seq', 'content_type', 'body', 'document', 'expires_at', 'updated_at',
] as const satisfies readonly (keyof PublicationRow)[];

/** The row the flush writes, which is also the buffered copy (ports.ts rule 3): strings, JSON text, a body of its own. */
function toRow(r: PublicationRecord): PublicationRow {
  return {
    resource: r.resource,
    event: r.event,
    etag: r.etag,
    seq: r.seq,
    content_type: r.contentType,
    body: Buffer.from(r.body),
    document: r.document === null ? null : JSON.stringify(r.document),
    expires_at: r.expiresAt,
    updated_at: r.updatedAt,
  };
}

function fromRow(row: PublicationRow): PublicationRecord {
  return {
    resource: row.resource,
    event: row.event,
    etag: row.etag,
    seq: row.seq,
    contentType: row.content_type,
    body: row.body,
    document: row.document === null ? null : (JSON.parse(row.document) as JsonValue),
    expiresAt: row.expires_at,
    updatedAt: row.updated_at,
  };
}

/** Publications in SQLite behind the write buffer; same read rules as the subscription repository. */
export class SqlitePublicationRepository implements PublicationRepository {
  private readonly pending: PendingTable<PublicationRow>;
  private lastSeq: number;
  private readonly sql: {
    upsert: Statement<[PublicationRow]>;
    delete: Statement<[string, string, string]>;
    get: Statement<[string, string, string], PublicationRow>;
    all: Statement<[], PublicationRow>;
    deleteResource: Statement<[string]>;
    deleteResourceEvent: Statement<[string, string]>;
    count: Statement<[], { n: number }>;
    maxSeq: Statement<[], { n: number }>;
  };

  constructor(
    db: Database,
    private readonly writes: WriteBehind,
    private readonly assertOpen: () => void,
  ) {
    this.sql = {
      upsert: db.prepare(upsertSql('publications', COLUMNS, ['resource', 'event', 'etag'])),
      delete: db.prepare('DELETE FROM publications WHERE resource = ? AND event = ? AND etag = ?'),
      get: db.prepare('SELECT * FROM publications WHERE resource = ? AND event = ? AND etag = ?'),
      all: db.prepare('SELECT * FROM publications ORDER BY seq'),
      deleteResource: db.prepare('DELETE FROM publications WHERE resource = ?'),
      deleteResourceEvent: db.prepare('DELETE FROM publications WHERE resource = ? AND event = ?'),
      count: db.prepare('SELECT COUNT(*) AS n FROM publications'),
      maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM publications'),
    };
    this.lastSeq = this.sql.maxSeq.get()!.n;
    this.pending = writes.table((w: PendingWrite<PublicationRow>) => {
      if (w.kind === 'put') this.sql.upsert.run(w.record);
      else this.sql.delete.run(...(w.args as [string, string, string]));
    });
  }

  async loadAll(): Promise<PublicationRecord[]> {
    return this.query(() => this.sql.all.all());
  }

  async get(key: PublicationKey): Promise<PublicationRecord | undefined> {
    this.assertOpen();
    const w = this.pending.peek(publicationKeyString(key));
    if (w) return w.kind === 'put' ? { ...fromRow(w.record), body: Buffer.from(w.record.body) } : undefined;
    const row = this.sql.get.get(key.resource, key.event, key.etag);
    return row && fromRow(row);
  }

  async count(): Promise<number> {
    this.syncPoint();
    return this.sql.count.get()!.n;
  }

  nextSeq(): number {
    this.assertOpen();
    return ++this.lastSeq;
  }

  put(record: PublicationRecord): void {
    this.assertOpen();
    this.pending.put(publicationKeyString(record), toRow(record));
    if (record.seq > this.lastSeq) this.lastSeq = record.seq;
  }

  delete(key: PublicationKey): void {
    this.assertOpen();
    this.pending.delete(publicationKeyString(key), [key.resource, key.event, key.etag]);
  }

  deleteResource(resource: string, event?: string): void {
    this.syncPoint();
    if (event === undefined) this.sql.deleteResource.run(resource);
    else this.sql.deleteResourceEvent.run(resource, event);
  }

  private syncPoint(): void {
    this.assertOpen();
    this.writes.flush();
  }

  private query(run: () => PublicationRow[]): PublicationRecord[] {
    this.syncPoint();
    return run().map(fromRow);
  }
}
