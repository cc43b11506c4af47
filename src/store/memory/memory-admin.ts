import type {
  AccountRepository,
  ApiKeyRepository,
  AuthTokenRepository,
  DeviceRepository,
  TrustedPeerRepository,
  UserRepository,
} from '../admin-data-port.js';
import type { AccountRecord, ApiKeyRecord, AuthTokenRecord, DeviceRecord, TrustedPeerRecord, UserRecord } from '../records.js';
import { SetIndex } from './set-index.js';

/**
 * The admin API's records in Maps. Admin data is small (accounts, devices and users number in the thousands at
 * most) and read rarely, so secondary lookups scan instead of keeping indexes, except devices by SIP user name, which
 * the SIP path asks. Every record is flat, so a spread copy keeps it a value (ports.ts rule 3).
 */
class MemoryTable<R extends object> {
  readonly map = new Map<string, R>();

  constructor(
    private readonly keyOf: (r: R) => string,
    private readonly assertOpen: () => void,
    private readonly copyOf: (r: R) => R = (r) => ({ ...r }),
  ) {}

  get(key: string): R | undefined {
    this.assertOpen();
    const r = this.map.get(key);
    return r === undefined ? undefined : this.copyOf(r);
  }

  where(pred: (r: R) => boolean): R[] {
    this.assertOpen();
    const out: R[] = [];
    for (const r of this.map.values()) if (pred(r)) out.push(this.copyOf(r));
    return out;
  }

  put(record: R): void {
    this.assertOpen();
    const copy = this.copyOf(record);
    this.map.set(this.keyOf(copy), copy);
  }

  delete(key: string): void {
    this.assertOpen();
    this.map.delete(key);
  }

  deleteWhere(pred: (r: R) => boolean): number {
    this.assertOpen();
    let n = 0;
    for (const [key, r] of [...this.map]) {
      if (pred(r)) {
        this.map.delete(key);
        n++;
      }
    }
    return n;
  }
}

const oldestFirst = (a: AccountRecord, b: AccountRecord): number =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class MemoryAccountRepository implements AccountRepository {
  private readonly t: MemoryTable<AccountRecord>;
  constructor(assertOpen: () => void) {
    this.t = new MemoryTable((r) => r.id, assertOpen, (r) =>
      r.digestAlgorithms === undefined ? { ...r } : { ...r, digestAlgorithms: [...r.digestAlgorithms] },
    );
  }
  loadAll(): AccountRecord[] {
    return this.t.where(() => true).sort(oldestFirst);
  }
  get(id: string): AccountRecord | undefined {
    return this.t.get(id);
  }
  findByRealm(realm: string): AccountRecord | undefined {
    return this.t.where((r) => r.realm === realm).sort(oldestFirst)[0];
  }
  findChildren(parentId: string): AccountRecord[] {
    return this.t.where((r) => r.parentId === parentId);
  }
  count(): number {
    return this.t.where(() => true).length;
  }
  put(record: AccountRecord): void {
    this.t.put(record);
  }
  delete(id: string): void {
    this.t.delete(id);
  }
}

export class MemoryDeviceRepository implements DeviceRepository {
  private readonly t: MemoryTable<DeviceRecord>;
  /**
   * (account, lower-cased SIP user name) → device ids: the one index here, because the SIP path's digest lookup asks
   * it per request and an operator's account holds thousands of devices (issue 19). A set, as the store does not
   * enforce uniqueness (the devices service does).
   */
  private readonly byName = new SetIndex();
  constructor(private readonly assertOpen: () => void) {
    // The digest secrets are the one nested value; absent means none, as SQLite reads it back (never null).
    this.t = new MemoryTable((r) => r.id, assertOpen, (r) => {
      const { sipDigest, ...rest } = r;
      return sipDigest ? { ...rest, sipDigest: { ...sipDigest } } : rest;
    });
  }
  get(id: string): DeviceRecord | undefined {
    return this.t.get(id);
  }
  findByAccount(accountId: string): DeviceRecord[] {
    return this.t.where((r) => r.accountId === accountId);
  }
  findBySipUsername(accountId: string, sipUsername: string): DeviceRecord | undefined {
    this.assertOpen();
    for (const id of this.byName.get(nameKey(accountId, sipUsername))) return this.t.get(id);
    return undefined;
  }
  put(record: DeviceRecord): void {
    const old = this.t.map.get(record.id);
    this.t.put(record);
    if (old) this.byName.remove(nameKey(old.accountId, old.sipUsername), old.id);
    this.byName.add(nameKey(record.accountId, record.sipUsername), record.id);
  }
  delete(id: string): void {
    const old = this.t.map.get(id);
    this.t.delete(id);
    if (old) this.byName.remove(nameKey(old.accountId, old.sipUsername), id);
  }
  deleteByAccount(accountId: string): number {
    return this.t.deleteWhere((r) => {
      if (r.accountId !== accountId) return false;
      this.byName.remove(nameKey(r.accountId, r.sipUsername), r.id);
      return true;
    });
  }
}

/** Account ids never hold a newline (ID_PATTERN), so the pair cannot collide. */
const nameKey = (accountId: string, sipUsername: string): string => `${accountId}\n${sipUsername.toLowerCase()}`;

export class MemoryUserRepository implements UserRepository {
  private readonly t: MemoryTable<UserRecord>;
  constructor(assertOpen: () => void) {
    this.t = new MemoryTable((r) => r.id, assertOpen);
  }
  get(id: string): UserRecord | undefined {
    return this.t.get(id);
  }
  findByAccount(accountId: string): UserRecord[] {
    return this.t.where((r) => r.accountId === accountId);
  }
  put(record: UserRecord): void {
    this.t.put(record);
  }
  delete(id: string): void {
    this.t.delete(id);
  }
  deleteByAccount(accountId: string): number {
    return this.t.deleteWhere((r) => r.accountId === accountId);
  }
}

export class MemoryApiKeyRepository implements ApiKeyRepository {
  private readonly t: MemoryTable<ApiKeyRecord>;
  constructor(assertOpen: () => void) {
    this.t = new MemoryTable((r) => r.keyHash, assertOpen);
  }
  get(keyHash: string): ApiKeyRecord | undefined {
    return this.t.get(keyHash);
  }
  findByAccount(accountId: string): ApiKeyRecord[] {
    return this.t.where((r) => r.accountId === accountId);
  }
  put(record: ApiKeyRecord): void {
    this.t.put(record);
  }
  delete(keyHash: string): void {
    this.t.delete(keyHash);
  }
  deleteByAccount(accountId: string): number {
    return this.t.deleteWhere((r) => r.accountId === accountId);
  }
}

export class MemoryAuthTokenRepository implements AuthTokenRepository {
  private readonly t: MemoryTable<AuthTokenRecord>;
  constructor(assertOpen: () => void) {
    this.t = new MemoryTable((r) => r.tokenHash, assertOpen);
  }
  get(tokenHash: string): AuthTokenRecord | undefined {
    return this.t.get(tokenHash);
  }
  findByAccount(accountId: string): AuthTokenRecord[] {
    return this.t.where((r) => r.accountId === accountId);
  }
  put(record: AuthTokenRecord): void {
    this.t.put(record);
  }
  delete(tokenHash: string): void {
    this.t.delete(tokenHash);
  }
  deleteByAccount(accountId: string): number {
    return this.t.deleteWhere((r) => r.accountId === accountId);
  }
  deleteIdle(lastUsedAtOrBefore: number): number {
    return this.t.deleteWhere((r) => r.lastUsedAt <= lastUsedAtOrBefore);
  }
}

export class MemoryTrustedPeerRepository implements TrustedPeerRepository {
  private readonly t: MemoryTable<TrustedPeerRecord>;
  constructor(assertOpen: () => void) {
    this.t = new MemoryTable((r) => r.id, assertOpen);
  }
  loadAll(): TrustedPeerRecord[] {
    return this.t.where(() => true);
  }
  get(id: string): TrustedPeerRecord | undefined {
    return this.t.get(id);
  }
  findByAccount(accountId: string): TrustedPeerRecord[] {
    return this.t.where((r) => r.accountId === accountId);
  }
  put(record: TrustedPeerRecord): void {
    this.t.put(record);
  }
  delete(id: string): void {
    this.t.delete(id);
  }
  deleteByAccount(accountId: string): number {
    return this.t.deleteWhere((r) => r.accountId === accountId);
  }
}
