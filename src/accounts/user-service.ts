import type { Clock } from '../lib/clock.js';
import { newId32 } from '../lib/ids.js';
import type { AdminDataStore } from '../store/ports.js';
import type { UserRecord } from '../store/records.js';
import { UnknownIdError, ValidationError } from './account-errors.js';
import { parseData } from './parse-data.js';
import { userSchema, type UserInput } from './schemas.js';
import { md5Hex, type SecretHasher } from './secrets.js';

export interface UserServiceOptions {
  store: AdminDataStore;
  clock: Clock;
  hasher: SecretHasher;
}

interface Login {
  username: string | null;
  passwordHash: string | null;
  credentialsHash: string | null;
}

/**
 * Users of an account. A user with a `username` and password can log in with `PUT /v2/user_auth`, whose credentials
 * are `md5(lower(username):password)`: that value depends on the user name, so changing the name needs the password
 * again. Deleting a user detaches the devices it owned; it touches no subscription.
 */
export class UserService {
  constructor(private readonly opts: UserServiceOptions) {}

  get(accountId: string, id: string): UserRecord {
    const user = this.opts.store.users.get(id);
    if (!user || user.accountId !== accountId) throw new UnknownIdError(id);
    return user;
  }

  list(accountId: string): UserRecord[] {
    return this.opts.store.users.findByAccount(accountId).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  async create(accountId: string, data: unknown): Promise<UserRecord> {
    const input = parseData(userSchema, data);
    const login = await this.login(accountId, input, null);
    this.assertUsernameFree(accountId, null, login.username);
    const now = this.opts.clock.now();
    const user: UserRecord = {
      id: newId32(),
      accountId,
      firstName: input.first_name,
      lastName: input.last_name,
      presenceId: input.presence_id ?? null,
      ...login,
      createdAt: now,
      updatedAt: now,
    };
    this.opts.store.users.put(user);
    return user;
  }

  /** POST semantics: replaces the document; a missing password keeps the stored one while the user name stays. */
  async update(accountId: string, id: string, data: unknown): Promise<UserRecord> {
    const before = this.get(accountId, id);
    const input = parseData(userSchema, data);
    const login = await this.login(accountId, input, before);
    const old = this.get(accountId, id); // re-read: it may have gone while hashing
    this.assertUsernameFree(accountId, id, login.username);
    const user: UserRecord = {
      ...old,
      firstName: input.first_name,
      lastName: input.last_name,
      presenceId: input.presence_id ?? null,
      ...login,
      updatedAt: this.opts.clock.now(),
    };
    this.opts.store.users.put(user);
    return user;
  }

  delete(accountId: string, id: string): UserRecord {
    const user = this.get(accountId, id);
    const { store, clock } = this.opts;
    for (const dev of store.devices.findByAccount(accountId)) {
      if (dev.ownerId === id) store.devices.put({ ...dev, ownerId: null, updatedAt: clock.now() });
    }
    store.users.delete(id);
    return user;
  }

  private async login(accountId: string, input: UserInput, old: UserRecord | null): Promise<Login> {
    const username = input.username ?? null;
    if (username === null) return { username: null, passwordHash: null, credentialsHash: null };
    const sameName = old?.username != null && old.username.toLowerCase() === username.toLowerCase();
    if (input.password === undefined) {
      if (sameName && old) return { username, passwordHash: old.passwordHash, credentialsHash: old.credentialsHash };
      throw ValidationError.one('password', 'required', 'A password is required with a new username', 'required');
    }
    const { hasher } = this.opts;
    const [passwordHash, credentialsHash] = await Promise.all([
      hasher.hashPassword(input.password),
      hasher.credentialsHash(md5Hex(`${username.toLowerCase()}:${input.password}`)),
    ]);
    return { username, passwordHash, credentialsHash };
  }

  private assertUsernameFree(accountId: string, self: string | null, username: string | null): void {
    if (username === null) return;
    const wanted = username.toLowerCase();
    const taken = this.opts.store.users
      .findByAccount(accountId)
      .some((u) => u.id !== self && u.username !== null && u.username.toLowerCase() === wanted);
    if (taken) throw ValidationError.one('username', 'unique', 'Username already in use in this account', 'unique');
  }
}
