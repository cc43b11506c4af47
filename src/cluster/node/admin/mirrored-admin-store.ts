import type { AdminDataStore } from '../../../store/admin-data-port.js';
import type { JsonValue } from '../../../store/records.js';
import { adminKey, type AdminChange, type AdminKind } from '../../admin-sync-port.js';

/**
 * The node's admin store in cluster mode: reads go to the local store (the synchronous cache the SIP path and the
 * API read), and every write also goes to `sink` (the AdminMirror, which sends it to the engine). The mirror applies
 * other nodes' changes to `local` directly, so they are not sent back.
 */
export class MirroredAdminStore implements AdminDataStore {
  /** Set by the mirror when it starts; writes before that stay local (nothing writes before the cluster starts). */
  sink: ((change: AdminChange) => void) | undefined;
  readonly accounts: AdminDataStore['accounts'];
  readonly devices: AdminDataStore['devices'];
  readonly users: AdminDataStore['users'];
  readonly apiKeys: AdminDataStore['apiKeys'];
  readonly authTokens: AdminDataStore['authTokens'];
  readonly trustedPeers: AdminDataStore['trustedPeers'];

  constructor(readonly local: AdminDataStore) {
    const emit = (change: AdminChange): void => this.sink?.(change);
    this.accounts = mirrored(local.accounts, 'accounts', emit);
    this.devices = mirrored(local.devices, 'devices', emit);
    this.users = mirrored(local.users, 'users', emit);
    this.apiKeys = mirrored(local.apiKeys, 'apiKeys', emit);
    this.authTokens = mirrored(local.authTokens, 'authTokens', emit);
    this.trustedPeers = mirrored(local.trustedPeers, 'trustedPeers', emit);
  }
}

type Method = (...args: unknown[]) => unknown;

/** A repository whose writes are also emitted; every other method is the local one's. */
function mirrored<T extends object>(inner: T, kind: AdminKind, emit: (c: AdminChange) => void): T {
  const cache = new Map<PropertyKey, unknown>();
  const wrap = (name: PropertyKey, fn: Method): unknown => {
    switch (name) {
      case 'put':
        return (record: JsonValue) => {
          fn.call(inner, record);
          // A copy: the caller may reuse its object, and the send may wait (island mode).
          emit({ op: 'put', kind, key: adminKey(kind, record), record: structuredClone(record) });
        };
      case 'delete':
        return (key: string) => {
          fn.call(inner, key);
          emit({ op: 'delete', kind, key });
        };
      case 'deleteByAccount':
        return (accountId: string) => {
          const n = fn.call(inner, accountId) as number;
          emit({ op: 'deleteByAccount', kind, accountId });
          return n;
        };
      case 'deleteIdle':
        return (cutoff: number) => {
          const n = fn.call(inner, cutoff) as number;
          // Called at every token issue: an entry only when something went.
          if (n > 0) emit({ op: 'deleteIdle', kind: 'authTokens', cutoff });
          return n;
        };
      default:
        return fn.bind(inner);
    }
  };
  return new Proxy(inner, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      let fn = cache.get(name);
      if (fn === undefined) cache.set(name, (fn = wrap(name, value as Method)));
      return fn;
    },
  });
}
