import type { Clock } from '../lib/clock.js';
import { Fifo } from '../lib/fifo.js';
import { newId32 } from '../lib/ids.js';
import type { AdminDataStore } from '../store/ports.js';
import type { AccountRecord } from '../store/records.js';
import { ForbiddenError, UnknownIdError, ValidationError } from './account-errors.js';
import { parseData } from './parse-data.js';
import { accountSchema } from './schemas.js';

export interface AccountServiceOptions {
  store: AdminDataStore;
  clock: Clock;
  /** Called after any account was created, changed or deleted (the SIP side's resolver re-reads realms). */
  onChange?: () => void;
}

/** Guards against a corrupt parent chain (a cycle written by hand into the database). */
const MAX_DEPTH = 64;

/**
 * Accounts: a tree of tenants, each serving one SIP realm. Access follows the tree: an account sees itself and its
 * descendants, never its parent or siblings (api-contract.md).
 */
export class AccountService {
  constructor(private readonly opts: AccountServiceOptions) {}

  get(id: string): AccountRecord {
    const acc = this.opts.store.accounts.get(id);
    if (!acc) throw new UnknownIdError(id);
    return acc;
  }

  exists(id: string): boolean {
    return this.opts.store.accounts.get(id) !== undefined;
  }

  /** True when `target` is `viewer` or one of its descendants. */
  canSee(viewer: string, target: string): boolean {
    let cur: string | null = target;
    for (let depth = 0; cur !== null && depth < MAX_DEPTH; depth++) {
      if (cur === viewer) return true;
      cur = this.opts.store.accounts.get(cur)?.parentId ?? null;
    }
    return false;
  }

  /** `root` and every descendant, breadth first. */
  listVisible(root: string): AccountRecord[] {
    const out: AccountRecord[] = [];
    const first = this.opts.store.accounts.get(root);
    if (!first) return out;
    const queue = new Fifo<AccountRecord>();
    queue.push(first);
    const seen = new Set<string>();
    for (let acc = queue.shift(); acc !== undefined; acc = queue.shift()) {
      if (seen.has(acc.id)) continue;
      seen.add(acc.id);
      out.push(acc);
      for (const child of this.opts.store.accounts.findChildren(acc.id)) queue.push(child);
    }
    return out;
  }

  /** Creates a child of `parentId` from a request's `data`. */
  create(parentId: string | null, data: unknown): AccountRecord {
    const input = parseData(accountSchema, data);
    const realm = input.realm.toLowerCase();
    this.assertRealmFree(realm, null);
    const now = this.opts.clock.now();
    const acc: AccountRecord = {
      id: newId32(),
      name: input.name,
      realm,
      parentId,
      createdAt: now,
      updatedAt: now,
      ...(input.digest_algorithms ? { digestAlgorithms: strongestFirst(input.digest_algorithms) } : {}),
    };
    this.opts.store.accounts.put(acc);
    this.opts.onChange?.();
    return acc;
  }

  /** POST semantics: the document is replaced by `data` (name and realm). */
  update(id: string, data: unknown): AccountRecord {
    const old = this.get(id);
    const input = parseData(accountSchema, data);
    const realm = input.realm.toLowerCase();
    this.assertRealmFree(realm, id);
    // POST replaces the document: no digest_algorithms goes back to MD5 only. A new realm leaves every device's HA1s
    // useless (the realm is hashed in): the API shows them `digest_ready: false` until their passwords are set again.
    const { digestAlgorithms: _old, ...rest } = old;
    const acc: AccountRecord = {
      ...rest,
      name: input.name,
      realm,
      updatedAt: this.opts.clock.now(),
      ...(input.digest_algorithms ? { digestAlgorithms: strongestFirst(input.digest_algorithms) } : {}),
    };
    this.opts.store.accounts.put(acc);
    this.opts.onChange?.();
    return acc;
  }

  /**
   * Deletes an account with its devices, users, API keys and tokens. Subscriptions are left alone: they belong to
   * the phones, which refresh or let them lapse. An account with sub-accounts, or the caller's own account, stays.
   */
  delete(id: string, callerAccountId: string): AccountRecord {
    const acc = this.get(id);
    if (id === callerAccountId) throw new ForbiddenError('an account cannot delete itself');
    if (this.opts.store.accounts.findChildren(id).length > 0) {
      throw ValidationError.one('id', 'has_descendants', 'Delete the sub-accounts first', 'descendants');
    }
    const { store } = this.opts;
    store.devices.deleteByAccount(id);
    store.users.deleteByAccount(id);
    store.apiKeys.deleteByAccount(id);
    store.authTokens.deleteByAccount(id);
    store.accounts.delete(id);
    this.opts.onChange?.();
    return acc;
  }

  private assertRealmFree(realm: string, self: string | null): void {
    const holder = this.opts.store.accounts.findByRealm(realm);
    if (holder && holder.id !== self) {
      throw ValidationError.one('realm', 'unique', 'Realm already in use by another account', 'unique');
    }
  }
}

const STRENGTH = ['SHA-512-256', 'SHA-256', 'MD5'];

/** Offered strongest first whatever order they were given in (RFC 8760 §2.4: most preferred first). */
function strongestFirst(list: readonly string[]): string[] {
  return [...list].sort((a, b) => STRENGTH.indexOf(a) - STRENGTH.indexOf(b));
}
