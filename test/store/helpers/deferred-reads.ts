import type { StoreBackend } from '../../../src/store/ports.js';

/**
 * Settles a read's answer a macrotask after it is known, as an engine across a network would (Redis for the cluster).
 * The read itself is taken at once, like a pipelined command, so it still answers as of its call (ports.ts rule 2).
 */
function later<T>(read: () => Promise<T>): Promise<T> {
  return read().then(
    (value) => new Promise<T>((resolve) => setImmediate(() => resolve(value))),
    (err: unknown) => new Promise<T>((_, reject) => setImmediate(() => reject(err))),
  );
}

/**
 * `inner` with every presence-state read answered a turn of the event loop late and everything else passed through:
 * proof that the code over the presence-state port waits for its answers instead of relying on backends that settle
 * at once (memory, SQLite).
 */
export function withDeferredReads(inner: StoreBackend): StoreBackend {
  const { subscriptions: subs, publications: pubs, resources: res, mailboxes: mbs } = inner;
  return {
    get ready() {
      return inner.ready;
    },
    subscriptions: {
      loadAll: () => later(() => subs.loadAll()),
      get: (id) => later(() => subs.get(id)),
      count: () => later(() => subs.count()),
      put: (r) => subs.put(r),
      delete: (id) => subs.delete(id),
    },
    publications: {
      loadAll: () => later(() => pubs.loadAll()),
      get: (key) => later(() => pubs.get(key)),
      count: () => later(() => pubs.count()),
      nextSeq: () => pubs.nextSeq(),
      put: (r) => pubs.put(r),
      delete: (key) => pubs.delete(key),
      deleteResource: (resource, event) => pubs.deleteResource(resource, event),
    },
    resources: {
      loadAll: () => later(() => res.loadAll()),
      get: (key) => later(() => res.get(key)),
      put: (r) => res.put(r),
      delete: (key) => res.delete(key),
    },
    mailboxes: {
      loadAll: () => later(() => mbs.loadAll()),
      get: (key) => later(() => mbs.get(key)),
      put: (r) => mbs.put(r),
      delete: (key) => mbs.delete(key),
    },
    accounts: inner.accounts,
    devices: inner.devices,
    users: inner.users,
    apiKeys: inner.apiKeys,
    authTokens: inner.authTokens,
    trustedPeers: inner.trustedPeers,
    writeHealth: () => inner.writeHealth(),
    flush: () => inner.flush(),
    close: () => inner.close(),
  };
}
