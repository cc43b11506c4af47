import type { Clock } from '../lib/clock.js';
import type { AdminDataStore } from '../store/ports.js';
import type { AccountRecord, AuthTokenRecord } from '../store/records.js';
import { InvalidCredentialsError, ValidationError } from './account-errors.js';
import { parseData } from './parse-data.js';
import { apiAuthSchema, userAuthSchema } from './schemas.js';
import { newToken, sha256Hex, type SecretHasher } from './secrets.js';

export interface AuthServiceOptions {
  store: AdminDataStore;
  clock: Clock;
  hasher: SecretHasher;
  /** A token lapses after this long without use. Default one hour (api-contract.md). */
  idleMs?: number;
}

export const TOKEN_IDLE_MS = 60 * 60 * 1000;

/** A token as issued: the clear token goes to the caller once and is never kept. */
export interface IssuedToken {
  token: string;
  record: AuthTokenRecord;
  account: AccountRecord;
}

const API_KEY_PATTERN = /^[0-9a-f]{64}$/;
const MD5_PATTERN = /^[0-9a-f]{32}$/;

/**
 * Token authentication (api-contract.md): tokens come from an API key or from a user's credentials, are stored only
 * as their SHA-256, and lapse after an hour without use. Every failure looks the same to the caller (401): which
 * part was wrong is logged by the caller's logger, never returned.
 */
export class AuthService {
  private readonly idleMs: number;

  constructor(private readonly opts: AuthServiceOptions) {
    this.idleMs = opts.idleMs ?? TOKEN_IDLE_MS;
  }

  /** `PUT /v2/api_auth` `{"api_key"}`. */
  loginWithApiKey(data: unknown): IssuedToken {
    const input = parseData(apiAuthSchema, data);
    const key = input.api_key.toLowerCase();
    if (!API_KEY_PATTERN.test(key)) throw new InvalidCredentialsError('malformed API key');
    const rec = this.opts.store.apiKeys.get(sha256Hex(key));
    const account = rec && this.opts.store.accounts.get(rec.accountId);
    if (!account) throw new InvalidCredentialsError('unknown API key');
    return this.issue(account, null, 'api_key');
  }

  /** `PUT /v2/user_auth` `{"credentials": md5(lower(username):password), "account_name" | "account_realm"}`. */
  async loginWithCredentials(data: unknown): Promise<IssuedToken> {
    const input = parseData(userAuthSchema, data);
    if (input.account_name === undefined && input.account_realm === undefined) {
      throw ValidationError.one('account_name', 'required', 'Either account_name or account_realm is required', 'required');
    }
    const credentials = input.credentials.toLowerCase();
    if (!MD5_PATTERN.test(credentials)) throw new InvalidCredentialsError('malformed credentials');
    // Exactly one scrypt per attempt, before anything is looked up: the same work whether the name or realm matches
    // no account, one or many, so neither CPU nor time tells an attacker which names exist.
    const hash = await this.opts.hasher.credentialsHash(credentials);
    const { store } = this.opts;
    const candidates =
      input.account_realm !== undefined
        ? [store.accounts.findByRealm(input.account_realm.toLowerCase())].filter((a): a is AccountRecord => a !== undefined)
        : store.accounts.loadAll().filter((a) => a.name === input.account_name);
    for (const account of candidates) {
      const user = store.users.findByAccount(account.id).find((u) => u.credentialsHash === hash);
      if (user) return this.issue(account, user.id, 'credentials');
    }
    throw new InvalidCredentialsError('no user with these credentials');
  }

  /** The token's record when it is valid now; each use restarts its idle period. */
  authenticate(token: string): AuthTokenRecord | undefined {
    if (token.length === 0 || token.length > 512) return undefined;
    const { store, clock } = this.opts;
    const hash = sha256Hex(token);
    const rec = store.authTokens.get(hash);
    if (!rec) return undefined;
    const now = clock.now();
    if (rec.lastUsedAt + this.idleMs <= now || !store.accounts.get(rec.accountId)) {
      store.authTokens.delete(hash);
      return undefined;
    }
    const touched = { ...rec, lastUsedAt: now };
    store.authTokens.put(touched);
    return touched;
  }

  /** `DELETE /v2/token_auth`: the token stops working at once. */
  revoke(token: string): void {
    this.opts.store.authTokens.delete(sha256Hex(token));
  }

  private issue(account: AccountRecord, ownerId: string | null, method: AuthTokenRecord['method']): IssuedToken {
    const { store, clock } = this.opts;
    const now = clock.now();
    // Tokens nobody used for the idle period are dead already; dropping them here keeps the table small.
    store.authTokens.deleteIdle(now - this.idleMs);
    const token = newToken();
    const record: AuthTokenRecord = { tokenHash: sha256Hex(token), accountId: account.id, ownerId, method, createdAt: now, lastUsedAt: now };
    store.authTokens.put(record);
    return { token, record, account };
  }
}
