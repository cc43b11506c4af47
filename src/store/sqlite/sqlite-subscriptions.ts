import type { Database, Statement } from 'better-sqlite3';
import { cloneRecord } from '../clone.js';
import type { SubscriptionRepository } from '../presence-state-port.js';
import type { FlowRecord, LastNotifyRecord, SubscriptionRecord } from '../records.js';
import { upsertSql } from './sql-upsert.js';
import type { PendingTable, PendingWrite, WriteBehind } from './write-behind.js';

interface SubscriptionRow {
  id: string;
  call_id: string;
  local_tag: string;
  remote_tag: string;
  event: string;
  event_id: string | null;
  resource: string;
  domain: string;
  account_id: string | null;
  watcher_user: string;
  watcher_domain: string;
  watcher_uri: string;
  resource_uri: string;
  contact: string;
  route_set: string;
  flow: string;
  local_cseq: number;
  remote_cseq: number;
  version: number;
  accept_types: string;
  granted_expires: number;
  expires_at: number;
  created_at: number;
  refreshed_at: number;
  strikes: number;
  last_notify: string | null;
  node: string;
}

const COLUMNS = [
  'id', 'call_id', 'local_tag', 'remote_tag', 'event', 'event_id', 'resource', 'domain', 'account_id',
  'watcher_user', 'watcher_domain', 'watcher_uri', 'resource_uri', 'contact', 'route_set', 'flow', 'local_cseq',
  'remote_cseq', 'version', 'accept_types', 'granted_expires', 'expires_at', 'created_at', 'refreshed_at', 'strikes',
  'last_notify', 'node',
] as const satisfies readonly (keyof SubscriptionRow)[];

function toRow(r: SubscriptionRecord): SubscriptionRow {
  return {
    id: r.id,
    call_id: r.callId,
    local_tag: r.localTag,
    remote_tag: r.remoteTag,
    event: r.event,
    event_id: r.eventId,
    resource: r.resource,
    domain: r.domain,
    account_id: r.accountId,
    watcher_user: r.watcherUser,
    watcher_domain: r.watcherDomain,
    watcher_uri: r.watcherUri,
    resource_uri: r.resourceUri,
    contact: r.contact,
    route_set: JSON.stringify(r.routeSet),
    flow: JSON.stringify(r.flow),
    local_cseq: r.localCseq,
    remote_cseq: r.remoteCseq,
    version: r.version,
    accept_types: JSON.stringify(r.acceptTypes),
    granted_expires: r.grantedExpires,
    expires_at: r.expiresAt,
    created_at: r.createdAt,
    refreshed_at: r.refreshedAt,
    strikes: r.strikes,
    last_notify: r.lastNotify === null ? null : JSON.stringify(r.lastNotify),
    node: r.node,
  };
}

/**
 * Reads a row fetched in `raw` mode, columns in COLUMNS order. Start-up loads every subscription at once, and
 * positional arrays spare better-sqlite3 building a 27-key object per row only for us to rename its keys.
 * The round-trip tests in test/store/presence-contract.ts catch any drift between this and COLUMNS.
 */
function fromRaw(v: unknown[]): SubscriptionRecord {
  const lastNotify = v[25] as string | null;
  return {
    id: v[0] as string,
    callId: v[1] as string,
    localTag: v[2] as string,
    remoteTag: v[3] as string,
    event: v[4] as string,
    eventId: v[5] as string | null,
    resource: v[6] as string,
    domain: v[7] as string,
    accountId: v[8] as string | null,
    watcherUser: v[9] as string,
    watcherDomain: v[10] as string,
    watcherUri: v[11] as string,
    resourceUri: v[12] as string,
    contact: v[13] as string,
    routeSet: JSON.parse(v[14] as string) as string[],
    flow: JSON.parse(v[15] as string) as FlowRecord,
    localCseq: v[16] as number,
    remoteCseq: v[17] as number,
    version: v[18] as number,
    acceptTypes: JSON.parse(v[19] as string) as string[],
    grantedExpires: v[20] as number,
    expiresAt: v[21] as number,
    createdAt: v[22] as number,
    refreshedAt: v[23] as number,
    strikes: v[24] as number,
    lastNotify: lastNotify === null ? null : (JSON.parse(lastNotify) as LastNotifyRecord),
    node: v[26] as string,
  };
}

/**
 * Subscriptions in SQLite behind the write buffer. Lookups by id consult the buffer first; `loadAll` and `count`
 * flush the buffer and then ask SQLite, so read-your-writes still holds. Those run at start-up and on admin and test
 * paths, where one small transaction costs nothing that matters.
 */
export class SqliteSubscriptionRepository implements SubscriptionRepository {
  private readonly pending: PendingTable<SubscriptionRecord>;
  private readonly sql: {
    upsert: Statement<[SubscriptionRow]>;
    delete: Statement<[string]>;
    get: Statement<[string], unknown[]>;
    all: Statement<[], unknown[]>;
    count: Statement<[], { n: number }>;
  };

  constructor(
    db: Database,
    private readonly writes: WriteBehind,
    private readonly assertOpen: () => void,
  ) {
    const select = (where: string): Statement<unknown[], unknown[]> =>
      db.prepare<unknown[], unknown[]>(`SELECT ${COLUMNS.join(', ')} FROM subscriptions ${where}`).raw(true);
    this.sql = {
      upsert: db.prepare(upsertSql('subscriptions', COLUMNS, ['id'])),
      delete: db.prepare('DELETE FROM subscriptions WHERE id = ?'),
      get: select('WHERE id = ?'),
      all: select(''),
      count: db.prepare('SELECT COUNT(*) AS n FROM subscriptions'),
    };
    this.pending = writes.table((w: PendingWrite<SubscriptionRecord>) => {
      if (w.kind === 'put') this.sql.upsert.run(toRow(w.record));
      else this.sql.delete.run(w.args[0] as string);
    });
  }

  async loadAll(): Promise<SubscriptionRecord[]> {
    this.syncPoint();
    const out: SubscriptionRecord[] = [];
    for (const v of this.sql.all.iterate()) out.push(fromRaw(v));
    return out;
  }

  async get(id: string): Promise<SubscriptionRecord | undefined> {
    this.assertOpen();
    const w = this.pending.peek(id);
    if (w) return w.kind === 'put' ? cloneRecord.subscription(w.record) : undefined;
    const row = this.sql.get.get(id);
    return row && fromRaw(row);
  }

  async count(): Promise<number> {
    this.syncPoint();
    return this.sql.count.get()!.n;
  }

  put(record: SubscriptionRecord): void {
    this.assertOpen();
    this.pending.put(record.id, cloneRecord.subscription(record));
  }

  delete(id: string): void {
    this.assertOpen();
    this.pending.delete(id, [id]);
  }

  private syncPoint(): void {
    this.assertOpen();
    this.writes.flush();
  }
}
