import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { StoreCredentialDirectory } from '../../src/security/index.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';

/**
 * The credential directory answers the SIP path from short-lived caches (issue 19: every digest request read its
 * account from the store): within `ttlMs` the store is not asked again, after it a realm or algorithm change is seen.
 */

const A = 'a'.repeat(32);

function setup(): { store: MemoryStore; clock: ManualClock; reads: { get: number; byRealm: number }; dir: StoreCredentialDirectory } {
  const store = new MemoryStore();
  store.accounts.put({ id: A, name: 'a', realm: 'a.example', parentId: null, createdAt: 1, updatedAt: 1 });
  const reads = { get: 0, byRealm: 0 };
  const get = store.accounts.get.bind(store.accounts);
  const findByRealm = store.accounts.findByRealm.bind(store.accounts);
  store.accounts.get = (id) => (reads.get++, get(id));
  store.accounts.findByRealm = (realm) => (reads.byRealm++, findByRealm(realm));
  const clock = new ManualClock(1_000_000);
  return { store, clock, reads, dir: new StoreCredentialDirectory(store, clock, { ttlMs: 1000 }) };
}

t.test('an account is read from the store once per ttlMs, and a realm or algorithm change is seen after it', async (t) => {
  const { store, clock, reads, dir } = setup();
  for (let i = 0; i < 100; i++) t.equal(dir.account(A)?.realm, 'a.example');
  t.equal(reads.get, 1, 'one store read for 100 requests');
  store.accounts.put({ id: A, name: 'a', realm: 'b.example', parentId: null, createdAt: 1, updatedAt: 2, digestAlgorithms: ['SHA-256', 'MD5'] });
  clock.advance(999);
  t.equal(dir.account(A)?.realm, 'a.example', 'within ttlMs the cached account');
  clock.advance(1);
  t.same(dir.account(A), { id: A, realm: 'b.example', algorithms: ['SHA-256', 'MD5'] }, 'after ttlMs the new realm and algorithms');
  t.equal(reads.get, 2);
  t.equal(dir.account('f'.repeat(32)), undefined, 'an unknown account is undefined');
});

t.test('by realm: cached case-insensitively, an unclaimed realm too, each for ttlMs', async (t) => {
  const { clock, reads, dir } = setup();
  t.equal(dir.accountByRealm('A.Example')?.id, A);
  t.equal(dir.accountByRealm('a.example')?.id, A);
  t.equal(reads.byRealm, 1);
  t.equal(dir.accountByRealm('nowhere.example'), undefined);
  t.equal(dir.accountByRealm('nowhere.example'), undefined);
  t.equal(reads.byRealm, 2, 'a realm nobody claims is asked once per ttlMs');
  clock.advance(1000);
  dir.accountByRealm('a.example');
  t.equal(reads.byRealm, 3);
});

t.test('ttlMs 0 reads the store every time (the policy tests rely on it)', async (t) => {
  const store = new MemoryStore();
  store.accounts.put({ id: A, name: 'a', realm: 'a.example', parentId: null, createdAt: 1, updatedAt: 1 });
  const dir = new StoreCredentialDirectory(store, new ManualClock(5), { ttlMs: 0 });
  t.equal(dir.account(A)?.realm, 'a.example');
  store.accounts.put({ id: A, name: 'a', realm: 'c.example', parentId: null, createdAt: 1, updatedAt: 2 });
  t.equal(dir.account(A)?.realm, 'c.example');
});
