/**
 * The admin-data port: the admin API's records (accounts, devices, users, API keys, auth tokens). The accounts
 * services, the API's authentication and the admin CLI read and write them; the SIP side sees them only through the
 * account resolver those services build. The data is small and changes rarely, so a backend may write it through at
 * once (a 201 for a new account must not be lost to a crash a moment later). Uniqueness (realms, SIP user names) and
 * referential checks are the accounts services' job, as normalisation is the caller's.
 *
 * It follows the rules of ports.ts. Every call answers at once: its readers (the account resolver, token checks) are
 * synchronous today.
 */
import type { AccountRecord, ApiKeyRecord, AuthTokenRecord, DeviceRecord, TrustedPeerRecord, UserRecord } from './records.js';

export interface AccountRepository {
  /** Every account, oldest first (`createdAt`, then `id`): the first one serves unknown domains when so configured. */
  loadAll(): AccountRecord[];
  get(id: string): AccountRecord | undefined;
  /** Exact match on the stored (lower-cased) realm. */
  findByRealm(realm: string): AccountRecord | undefined;
  /** Accounts whose `parentId` is `parentId`. */
  findChildren(parentId: string): AccountRecord[];
  count(): number;
  /** Upsert by `record.id`. */
  put(record: AccountRecord): void;
  delete(id: string): void;
}

export interface DeviceRepository {
  get(id: string): DeviceRecord | undefined;
  findByAccount(accountId: string): DeviceRecord[];
  /**
   * The account's device whose SIP user name, lower-cased, equals `sipUsername` lower-cased (the devices service keeps
   * them unique that way within an account). Indexed: the SIP path's digest lookup asks it per device (issue 19).
   */
  findBySipUsername(accountId: string, sipUsername: string): DeviceRecord | undefined;
  /** Upsert by `record.id`. */
  put(record: DeviceRecord): void;
  delete(id: string): void;
  /** Removes every device of the account; returns how many went. */
  deleteByAccount(accountId: string): number;
}

export interface UserRepository {
  get(id: string): UserRecord | undefined;
  findByAccount(accountId: string): UserRecord[];
  /** Upsert by `record.id`. */
  put(record: UserRecord): void;
  delete(id: string): void;
  deleteByAccount(accountId: string): number;
}

export interface ApiKeyRepository {
  get(keyHash: string): ApiKeyRecord | undefined;
  findByAccount(accountId: string): ApiKeyRecord[];
  /** Upsert by `record.keyHash`. */
  put(record: ApiKeyRecord): void;
  delete(keyHash: string): void;
  deleteByAccount(accountId: string): number;
}

export interface AuthTokenRepository {
  get(tokenHash: string): AuthTokenRecord | undefined;
  /**
   * The account's tokens (hashes with their account, method and times; a token in clear is never stored): the
   * cluster's admin mirror lists them to seed a Redis that lost its data, so clients keep their tokens.
   */
  findByAccount(accountId: string): AuthTokenRecord[];
  /** Upsert by `record.tokenHash`. */
  put(record: AuthTokenRecord): void;
  delete(tokenHash: string): void;
  deleteByAccount(accountId: string): number;
  /** Removes every token last used at or before `lastUsedAtOrBefore`; returns how many went. */
  deleteIdle(lastUsedAtOrBefore: number): number;
}

export interface TrustedPeerRepository {
  /** Every peer of every account (the in-memory index is built from it). */
  loadAll(): TrustedPeerRecord[];
  get(id: string): TrustedPeerRecord | undefined;
  findByAccount(accountId: string): TrustedPeerRecord[];
  /** Upsert by `record.id`. */
  put(record: TrustedPeerRecord): void;
  delete(id: string): void;
  deleteByAccount(accountId: string): number;
}

/** The admin side of a store: what the accounts services, the API and the admin CLI take. */
export interface AdminDataStore {
  readonly accounts: AccountRepository;
  readonly devices: DeviceRepository;
  readonly users: UserRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly authTokens: AuthTokenRepository;
  readonly trustedPeers: TrustedPeerRepository;
}
