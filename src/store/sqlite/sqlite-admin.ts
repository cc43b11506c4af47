import type { Database, Statement } from 'better-sqlite3';
import type {
  AccountRepository,
  ApiKeyRepository,
  AuthTokenRepository,
  DeviceRepository,
  TrustedPeerRepository,
  UserRepository,
} from '../admin-data-port.js';
import type {
  AccountRecord,
  ApiKeyRecord,
  AuthMethod,
  AuthTokenRecord,
  DeviceDigestRecord,
  DeviceRecord,
  TrustedPeerRecord,
  TrustedPeerTransport,
  UserRecord,
} from '../records.js';
import { upsertSql } from './sql-upsert.js';

/** How one admin table maps to its record type. Column names are snake_case versions of the record's keys. */
interface TableSpec<R> {
  table: string;
  key: string;
  columns: readonly string[];
  toRow(r: R): Record<string, unknown>;
  fromRow(row: Record<string, unknown>): R;
}

/**
 * An admin table written through at once, without the write-behind buffer: admin changes are rare, an operator
 * expects a created account to survive a crash that follows the 201, and token touches are one small row each.
 * Statements for secondary lookups are prepared once, on first use.
 */
class SqliteTable<R> {
  private readonly upsert: Statement;
  private readonly byKey: Statement;
  private readonly deleteByKey: Statement;
  private readonly prepared = new Map<string, Statement>();

  constructor(
    private readonly db: Database,
    private readonly spec: TableSpec<R>,
    private readonly assertOpen: () => void,
  ) {
    this.upsert = db.prepare(upsertSql(spec.table, spec.columns, [spec.key]));
    this.byKey = db.prepare(`SELECT * FROM ${spec.table} WHERE ${spec.key} = ?`);
    this.deleteByKey = db.prepare(`DELETE FROM ${spec.table} WHERE ${spec.key} = ?`);
  }

  get(key: string): R | undefined {
    this.assertOpen();
    const row = this.byKey.get(key) as Record<string, unknown> | undefined;
    return row && this.spec.fromRow(row);
  }

  /** `tail` is trusted SQL written in this file (WHERE / ORDER BY with `?` parameters), never input. */
  select(tail: string, ...params: unknown[]): R[] {
    this.assertOpen();
    const rows = this.statement(`SELECT * FROM ${this.spec.table} ${tail}`).all(...params) as Record<string, unknown>[];
    return rows.map((row) => this.spec.fromRow(row));
  }

  count(): number {
    this.assertOpen();
    return (this.statement(`SELECT COUNT(*) AS n FROM ${this.spec.table}`).get() as { n: number }).n;
  }

  put(record: R): void {
    this.assertOpen();
    this.upsert.run(this.spec.toRow(record));
  }

  delete(key: string): void {
    this.assertOpen();
    this.deleteByKey.run(key);
  }

  deleteWhere(where: string, ...params: unknown[]): number {
    this.assertOpen();
    return this.statement(`DELETE FROM ${this.spec.table} ${where}`).run(...params).changes;
  }

  private statement(sql: string): Statement {
    let st = this.prepared.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.prepared.set(sql, st);
    }
    return st;
  }
}

const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));
const num = (v: unknown): number => v as number;

const accountsSpec: TableSpec<AccountRecord> = {
  table: 'accounts',
  key: 'id',
  columns: ['id', 'name', 'realm', 'parent_id', 'created_at', 'updated_at', 'digest_algorithms'],
  toRow: (r) => ({
    id: r.id,
    name: r.name,
    realm: r.realm,
    parent_id: r.parentId,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    digest_algorithms: r.digestAlgorithms === undefined ? null : JSON.stringify(r.digestAlgorithms),
  }),
  fromRow: (w) => ({
    id: str(w.id),
    name: str(w.name),
    realm: str(w.realm),
    parentId: strOrNull(w.parent_id),
    createdAt: num(w.created_at),
    updatedAt: num(w.updated_at),
    ...(w.digest_algorithms === null || w.digest_algorithms === undefined
      ? {}
      : { digestAlgorithms: JSON.parse(str(w.digest_algorithms)) as string[] }),
  }),
};

const devicesSpec: TableSpec<DeviceRecord> = {
  table: 'devices',
  key: 'id',
  columns: ['id', 'account_id', 'name', 'sip_username', 'sip_password_hash', 'presence_id', 'owner_id', 'created_at', 'updated_at', 'sip_digest'],
  toRow: (r) => ({
    id: r.id,
    account_id: r.accountId,
    name: r.name,
    sip_username: r.sipUsername,
    sip_password_hash: r.sipPasswordHash,
    presence_id: r.presenceId,
    owner_id: r.ownerId,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    sip_digest: r.sipDigest ? JSON.stringify(r.sipDigest) : null,
  }),
  fromRow: (w) => ({
    id: str(w.id),
    accountId: str(w.account_id),
    name: str(w.name),
    sipUsername: str(w.sip_username),
    sipPasswordHash: str(w.sip_password_hash),
    presenceId: strOrNull(w.presence_id),
    ownerId: strOrNull(w.owner_id),
    createdAt: num(w.created_at),
    updatedAt: num(w.updated_at),
    // Absent means none (a device from before digest secrets were kept): reads never carry a null here.
    ...(w.sip_digest === null || w.sip_digest === undefined ? {} : { sipDigest: JSON.parse(str(w.sip_digest)) as DeviceDigestRecord }),
  }),
};

const usersSpec: TableSpec<UserRecord> = {
  table: 'users',
  key: 'id',
  columns: [
    'id', 'account_id', 'first_name', 'last_name', 'presence_id', 'username', 'password_hash', 'credentials_hash',
    'created_at', 'updated_at',
  ],
  toRow: (r) => ({
    id: r.id,
    account_id: r.accountId,
    first_name: r.firstName,
    last_name: r.lastName,
    presence_id: r.presenceId,
    username: r.username,
    password_hash: r.passwordHash,
    credentials_hash: r.credentialsHash,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }),
  fromRow: (w) => ({
    id: str(w.id),
    accountId: str(w.account_id),
    firstName: str(w.first_name),
    lastName: str(w.last_name),
    presenceId: strOrNull(w.presence_id),
    username: strOrNull(w.username),
    passwordHash: strOrNull(w.password_hash),
    credentialsHash: strOrNull(w.credentials_hash),
    createdAt: num(w.created_at),
    updatedAt: num(w.updated_at),
  }),
};

const apiKeysSpec: TableSpec<ApiKeyRecord> = {
  table: 'api_keys',
  key: 'key_hash',
  columns: ['key_hash', 'account_id', 'created_at'],
  toRow: (r) => ({ key_hash: r.keyHash, account_id: r.accountId, created_at: r.createdAt }),
  fromRow: (w) => ({ keyHash: str(w.key_hash), accountId: str(w.account_id), createdAt: num(w.created_at) }),
};

const authTokensSpec: TableSpec<AuthTokenRecord> = {
  table: 'auth_tokens',
  key: 'token_hash',
  columns: ['token_hash', 'account_id', 'owner_id', 'method', 'created_at', 'last_used_at'],
  toRow: (r) => ({
    token_hash: r.tokenHash,
    account_id: r.accountId,
    owner_id: r.ownerId,
    method: r.method,
    created_at: r.createdAt,
    last_used_at: r.lastUsedAt,
  }),
  fromRow: (w) => ({
    tokenHash: str(w.token_hash),
    accountId: str(w.account_id),
    ownerId: strOrNull(w.owner_id),
    method: w.method as AuthMethod,
    createdAt: num(w.created_at),
    lastUsedAt: num(w.last_used_at),
  }),
};

const trustedPeersSpec: TableSpec<TrustedPeerRecord> = {
  table: 'trusted_peers',
  key: 'id',
  columns: ['id', 'account_id', 'cidr', 'transport', 'fingerprint', 'name', 'created_at', 'updated_at'],
  toRow: (r) => ({
    id: r.id,
    account_id: r.accountId,
    cidr: r.cidr,
    transport: r.transport,
    fingerprint: r.fingerprint,
    name: r.name,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }),
  fromRow: (w) => ({
    id: str(w.id),
    accountId: str(w.account_id),
    cidr: str(w.cidr),
    transport: strOrNull(w.transport) as TrustedPeerTransport | null,
    fingerprint: strOrNull(w.fingerprint),
    name: strOrNull(w.name),
    createdAt: num(w.created_at),
    updatedAt: num(w.updated_at),
  }),
};

export class SqliteAccountRepository implements AccountRepository {
  private readonly t: SqliteTable<AccountRecord>;
  constructor(db: Database, assertOpen: () => void) {
    this.t = new SqliteTable(db, accountsSpec, assertOpen);
  }
  loadAll(): AccountRecord[] {
    return this.t.select('ORDER BY created_at, id');
  }
  get(id: string): AccountRecord | undefined {
    return this.t.get(id);
  }
  findByRealm(realm: string): AccountRecord | undefined {
    return this.t.select('WHERE realm = ? ORDER BY created_at, id LIMIT 1', realm)[0];
  }
  findChildren(parentId: string): AccountRecord[] {
    return this.t.select('WHERE parent_id = ?', parentId);
  }
  count(): number {
    return this.t.count();
  }
  put(record: AccountRecord): void {
    this.t.put(record);
  }
  delete(id: string): void {
    this.t.delete(id);
  }
}

export class SqliteDeviceRepository implements DeviceRepository {
  private readonly t: SqliteTable<DeviceRecord>;
  constructor(db: Database, assertOpen: () => void) {
    this.t = new SqliteTable(db, devicesSpec, assertOpen);
  }
  get(id: string): DeviceRecord | undefined {
    return this.t.get(id);
  }
  findByAccount(accountId: string): DeviceRecord[] {
    return this.t.select('WHERE account_id = ?', accountId);
  }
  findBySipUsername(accountId: string, sipUsername: string): DeviceRecord | undefined {
    // Written as the index devices_account_sip_username is (migrations.ts), so SQLite uses it. SIP user names are
    // ASCII (SIP_USER_PATTERN), where SQL lower() and toLowerCase() agree.
    return this.t.select('WHERE account_id = ? AND lower(sip_username) = ? LIMIT 1', accountId, sipUsername.toLowerCase())[0];
  }
  put(record: DeviceRecord): void {
    this.t.put(record);
  }
  delete(id: string): void {
    this.t.delete(id);
  }
  deleteByAccount(accountId: string): number {
    return this.t.deleteWhere('WHERE account_id = ?', accountId);
  }
}

export class SqliteUserRepository implements UserRepository {
  private readonly t: SqliteTable<UserRecord>;
  constructor(db: Database, assertOpen: () => void) {
    this.t = new SqliteTable(db, usersSpec, assertOpen);
  }
  get(id: string): UserRecord | undefined {
    return this.t.get(id);
  }
  findByAccount(accountId: string): UserRecord[] {
    return this.t.select('WHERE account_id = ?', accountId);
  }
  put(record: UserRecord): void {
    this.t.put(record);
  }
  delete(id: string): void {
    this.t.delete(id);
  }
  deleteByAccount(accountId: string): number {
    return this.t.deleteWhere('WHERE account_id = ?', accountId);
  }
}

export class SqliteApiKeyRepository implements ApiKeyRepository {
  private readonly t: SqliteTable<ApiKeyRecord>;
  constructor(db: Database, assertOpen: () => void) {
    this.t = new SqliteTable(db, apiKeysSpec, assertOpen);
  }
  get(keyHash: string): ApiKeyRecord | undefined {
    return this.t.get(keyHash);
  }
  findByAccount(accountId: string): ApiKeyRecord[] {
    return this.t.select('WHERE account_id = ?', accountId);
  }
  put(record: ApiKeyRecord): void {
    this.t.put(record);
  }
  delete(keyHash: string): void {
    this.t.delete(keyHash);
  }
  deleteByAccount(accountId: string): number {
    return this.t.deleteWhere('WHERE account_id = ?', accountId);
  }
}

export class SqliteAuthTokenRepository implements AuthTokenRepository {
  private readonly t: SqliteTable<AuthTokenRecord>;
  constructor(db: Database, assertOpen: () => void) {
    this.t = new SqliteTable(db, authTokensSpec, assertOpen);
  }
  get(tokenHash: string): AuthTokenRecord | undefined {
    return this.t.get(tokenHash);
  }
  findByAccount(accountId: string): AuthTokenRecord[] {
    return this.t.select('WHERE account_id = ?', accountId);
  }
  put(record: AuthTokenRecord): void {
    this.t.put(record);
  }
  delete(tokenHash: string): void {
    this.t.delete(tokenHash);
  }
  deleteByAccount(accountId: string): number {
    return this.t.deleteWhere('WHERE account_id = ?', accountId);
  }
  deleteIdle(lastUsedAtOrBefore: number): number {
    return this.t.deleteWhere('WHERE last_used_at <= ?', lastUsedAtOrBefore);
  }
}

export class SqliteTrustedPeerRepository implements TrustedPeerRepository {
  private readonly t: SqliteTable<TrustedPeerRecord>;
  constructor(db: Database, assertOpen: () => void) {
    this.t = new SqliteTable(db, trustedPeersSpec, assertOpen);
  }
  loadAll(): TrustedPeerRecord[] {
    return this.t.select('');
  }
  get(id: string): TrustedPeerRecord | undefined {
    return this.t.get(id);
  }
  findByAccount(accountId: string): TrustedPeerRecord[] {
    return this.t.select('WHERE account_id = ?', accountId);
  }
  put(record: TrustedPeerRecord): void {
    this.t.put(record);
  }
  delete(id: string): void {
    this.t.delete(id);
  }
  deleteByAccount(accountId: string): number {
    return this.t.deleteWhere('WHERE account_id = ?', accountId);
  }
}
