import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { StoreCredentialDirectory } from '../../src/security/index.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import type { DeviceRecord, UserRecord } from '../../src/store/records.js';

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

/** An account of `n` devices `phone0` … (the last one owned by a user with a presence id), reads of them counted. */
function devicesSetup(n: number) {
  const { store, clock } = setup();
  for (let i = 0; i < n; i++) store.devices.put(device(i));
  const owner: UserRecord = { id: 'u1', accountId: A, firstName: 'Ann', lastName: 'Lee', presenceId: '2000', username: null, passwordHash: null, credentialsHash: null, createdAt: 1, updatedAt: 1 };
  store.users.put(owner);
  const reads = { byAccount: 0, byName: 0, users: 0 };
  const findByAccount = store.devices.findByAccount.bind(store.devices);
  const findBySipUsername = store.devices.findBySipUsername.bind(store.devices);
  const getUser = store.users.get.bind(store.users);
  store.devices.findByAccount = (id) => (reads.byAccount++, findByAccount(id));
  store.devices.findBySipUsername = (id, name) => (reads.byName++, findBySipUsername(id, name));
  store.users.get = (id) => (reads.users++, getUser(id));
  return { store, clock, reads, dir: new StoreCredentialDirectory(store, clock, { ttlMs: 1000 }) };
}

function device(i: number, over: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    id: i.toString(16).padStart(32, '0'),
    accountId: A,
    name: `phone ${i}`,
    sipUsername: `Phone${i}`,
    sipPasswordHash: 'scrypt$1024$8$1$c2FsdA$aGFzaA',
    presenceId: null,
    ownerId: 'u1',
    createdAt: 1,
    updatedAt: 1,
    sipDigest: { realm: 'a.example', ha1Md5: '1'.repeat(32), ha1bMd5: '2'.repeat(32), ha1Sha256: '3'.repeat(64), ha1Sha512_256: '4'.repeat(64) },
    ...over,
  };
}

t.test('a device is read alone (issue 19): on an account of 1,000 devices, one authenticating device costs one findBySipUsername (and one owner read) per ttlMs and never reads the account', async (t) => {
  const { clock, reads, dir } = devicesSetup(1000);
  for (let second = 0; second < 5; second++) {
    for (let i = 0; i < 50; i++) t.equal(dir.device(A, 'phone7')?.id, device(7).id);
    clock.advance(1000);
  }
  t.equal(reads.byAccount, 0, 'the account is never read whole');
  t.equal(reads.byName, 5, 'one lookup per ttlMs');
  t.equal(reads.users, 5, 'its owner read with it, not the owners of the other 999');
  t.same(dir.device(A, 'PHONE7'), {
    id: device(7).id,
    accountId: A,
    username: 'Phone7',
    digest: device(7).sipDigest,
    presenceIds: ['phone7'],
    mailboxes: ['phone7', '2000'],
  }, 'as the policy sees it: the spelling as entered, lower-cased presence ids, its owner\'s mailbox');
});

t.test('a changed password (digest) or user name is seen after ttlMs and not before; each name is cached apart', async (t) => {
  const { store, clock, reads, dir } = devicesSetup(10);
  t.equal(dir.device(A, 'phone1')?.digest?.ha1Md5, '1'.repeat(32));
  t.equal(dir.device(A, 'phone2')?.id, device(2).id);
  const newDigest = { realm: 'a.example', ha1Md5: '9'.repeat(32), ha1bMd5: '8'.repeat(32), ha1Sha256: '7'.repeat(64), ha1Sha512_256: '6'.repeat(64) };
  store.devices.put(device(1, { sipDigest: newDigest, updatedAt: 2 }));
  clock.advance(999);
  t.equal(dir.device(A, 'phone1')?.digest?.ha1Md5, '1'.repeat(32), 'within ttlMs the cached secrets');
  clock.advance(1);
  t.same(dir.device(A, 'phone1')?.digest, newDigest, 'after ttlMs the new ones');
  t.equal(reads.byName, 3, 'phone1 twice, phone2 once');
  store.devices.put(device(2, { sipUsername: 'Desk2', updatedAt: 2 }));
  clock.advance(1000);
  t.equal(dir.device(A, 'phone2'), undefined, 'the old name is gone after ttlMs');
  t.equal(dir.device(A, 'desk2')?.id, device(2).id, 'the new one is found');
  store.devices.delete(device(3).id);
  t.equal(dir.device(A, 'phone3'), undefined, 'a device deleted before its first lookup is not found');
  t.equal(dir.device('b'.repeat(32), 'phone1'), undefined, 'nor a device under another account');
});

t.test('an unknown name is cached for ttlMs too; a device created meanwhile is found after it', async (t) => {
  const { store, clock, reads, dir } = devicesSetup(3);
  for (let i = 0; i < 20; i++) t.equal(dir.device(A, 'Nobody'), undefined);
  t.equal(reads.byName, 1, 'one store read for 20 requests naming nobody');
  store.devices.put(device(50, { sipUsername: 'nobody' }));
  t.equal(dir.device(A, 'nobody'), undefined, 'within ttlMs the cached miss');
  clock.advance(1000);
  t.equal(dir.device(A, 'nobody')?.id, device(50).id);
  t.equal(reads.byName, 2);
});

t.test('a spray of unknown names stays bounded and never evicts a device that authenticates', async (t) => {
  const { reads, dir } = devicesSetup(3);
  t.ok(dir.device(A, 'phone0'));
  for (let i = 0; i < 12_000; i++) dir.device(A, `guess${i}`);
  t.equal(reads.byName, 12_001);
  t.ok(dir.device(A, 'phone0'), 'still cached');
  t.equal(reads.byName, 12_001, 'the device was not read again');
  dir.device(A, 'guess0');
  t.equal(reads.byName, 12_002, 'the oldest unknown names were dropped (bounded), so guess0 is read again');
  dir.device(A, 'guess11999');
  t.equal(reads.byName, 12_002, 'the newest is still cached');
});
