/**
 * The admin-data port's contract (src/store/admin-data-port.ts, rules in src/store/ports.ts), written once and run
 * against every backend: test/store/memory.test.ts and test/store/sqlite.test.ts call `adminContract` with their own
 * factory, as they call `presenceContract` (presence-contract.ts) for the other side.
 * This file registers tests only when called, so running it alone is a no-op.
 */
import t from 'tap';
import type { AdminDataStore } from '../../src/store/ports.js';
import type { DeviceRecord } from '../../src/store/records.js';
import { contractHarness, type StoreFactory } from './helpers/contract-harness.js';
import { T0 } from './helpers/records.js';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  accountRecord,
  apiKeyRecord,
  authTokenRecord,
  deviceRecord,
  trustedPeerRecord,
  userRecord,
} from './helpers/admin-records.js';

export function adminContract(backend: string, open: StoreFactory<AdminDataStore>): void {
  const harness = contractHarness(open);

  t.test(`${backend}: admin-data contract (src/store/admin-data-port.ts)`, async (t) => {
    t.test('admin records (account, device, user, API key, token) read back field for field, also after reopen', async (t) => {
      const h = harness(t);
      let store = h.store;
      const recs = {
        account: accountRecord({ parentId: ACCOUNT_B }),
        device: deviceRecord(),
        bareDevice: withoutDigest(deviceRecord({ id: 'd2', presenceId: null, ownerId: null })),
        user: userRecord(),
        bareUser: userRecord({ id: 'u2', presenceId: null, username: null, passwordHash: null, credentialsHash: null }),
        apiKey: apiKeyRecord(),
        token: authTokenRecord(),
        keyToken: authTokenRecord({ tokenHash: 'x'.repeat(64), ownerId: null, method: 'api_key' }),
      };
      const check = (s: AdminDataStore, when: string): void => {
        t.strictSame(s.accounts.get(recs.account.id), recs.account, `account ${when}`);
        t.strictSame(s.devices.get(recs.device.id), recs.device, `device ${when}`);
        t.strictSame(s.devices.get('d2'), recs.bareDevice, `device with nulls ${when}`);
        t.strictSame(s.users.get(recs.user.id), recs.user, `user ${when}`);
        t.strictSame(s.users.get('u2'), recs.bareUser, `user with nulls ${when}`);
        t.strictSame(s.apiKeys.get(recs.apiKey.keyHash), recs.apiKey, `API key ${when}`);
        t.strictSame(s.authTokens.get(recs.token.tokenHash), recs.token, `token ${when}`);
        t.strictSame(s.authTokens.get(recs.keyToken.tokenHash), recs.keyToken, `API key token ${when}`);
      };
      store.accounts.put(recs.account);
      store.devices.put(recs.device);
      store.devices.put(recs.bareDevice);
      store.users.put(recs.user);
      store.users.put(recs.bareUser);
      store.apiKeys.put(recs.apiKey);
      store.authTokens.put(recs.token);
      store.authTokens.put(recs.keyToken);
      check(store, 'after put');
      if (h.reopen) {
        store = h.reopen();
        check(store, 'after reopen');
      }
      t.equal(store.accounts.get('nope'), undefined);
      t.equal(store.devices.get('nope'), undefined);
      t.equal(store.users.get('nope'), undefined);
      t.equal(store.apiKeys.get('nope'), undefined);
      t.equal(store.authTokens.get('nope'), undefined);
    });

    t.test('admin records are values: mutating after put or after a read never changes the store (rule 3)', async (t) => {
      const { store } = harness(t);
      const acc = accountRecord();
      store.accounts.put(acc);
      acc.realm = 'changed.example';
      const read = store.accounts.get(ACCOUNT_A)!;
      read.name = 'changed';
      t.strictSame(store.accounts.get(ACCOUNT_A), accountRecord());
      const dev = deviceRecord();
      store.devices.put(dev);
      store.devices.findByAccount(ACCOUNT_A)[0]!.sipUsername = 'x';
      t.strictSame(store.devices.get(dev.id), deviceRecord());
      // The nested values too: the digest secrets and the account's algorithm list.
      dev.sipDigest!.ha1Md5 = 'f'.repeat(32);
      store.devices.get(dev.id)!.sipDigest!.ha1Sha256 = 'e'.repeat(64);
      t.strictSame(store.devices.get(dev.id), deviceRecord());
      acc.digestAlgorithms!.push('SHA-512-256');
      store.accounts.get(ACCOUNT_A)!.digestAlgorithms!.pop();
      t.strictSame(store.accounts.get(ACCOUNT_A), accountRecord());
    });

    t.test('accounts list oldest first, find by realm and by parent, count and delete', async (t) => {
      const { store } = harness(t);
      store.accounts.put(accountRecord({ id: 'c'.repeat(32), realm: 'c.example', createdAt: T0 + 5 }));
      store.accounts.put(accountRecord({ id: ACCOUNT_B, realm: 'b.example', createdAt: T0 }));
      store.accounts.put(accountRecord({ id: ACCOUNT_A, realm: 'a.example', createdAt: T0, parentId: ACCOUNT_B }));
      t.strictSame(store.accounts.loadAll().map((a) => a.id), [ACCOUNT_A, ACCOUNT_B, 'c'.repeat(32)], 'createdAt, then id');
      t.equal(store.accounts.findByRealm('b.example')?.id, ACCOUNT_B);
      t.equal(store.accounts.findByRealm('B.example'), undefined, 'exact match: normalising is the caller\'s job');
      t.strictSame(store.accounts.findChildren(ACCOUNT_B).map((a) => a.id), [ACCOUNT_A]);
      t.strictSame(store.accounts.findChildren(ACCOUNT_A), []);
      t.equal(store.accounts.count(), 3);
      store.accounts.put(accountRecord({ id: ACCOUNT_A, realm: 'moved.example', createdAt: T0, parentId: ACCOUNT_B }));
      t.equal(store.accounts.findByRealm('a.example'), undefined, 'upsert moves the realm');
      t.equal(store.accounts.findByRealm('moved.example')?.id, ACCOUNT_A);
      store.accounts.delete(ACCOUNT_A);
      store.accounts.delete(ACCOUNT_A);
      t.equal(store.accounts.count(), 2);
      t.strictSame(store.accounts.findChildren(ACCOUNT_B), []);
    });

    t.test('devices, users and API keys list per account and go with deleteByAccount', async (t) => {
      const { store } = harness(t);
      store.devices.put(deviceRecord({ id: 'd1' }));
      store.devices.put(deviceRecord({ id: 'd2' }));
      store.devices.put(deviceRecord({ id: 'd3', accountId: ACCOUNT_B }));
      store.users.put(userRecord({ id: 'u1' }));
      store.users.put(userRecord({ id: 'u2', accountId: ACCOUNT_B }));
      store.apiKeys.put(apiKeyRecord({ keyHash: 'k1' }));
      store.apiKeys.put(apiKeyRecord({ keyHash: 'k2', accountId: ACCOUNT_B }));
      t.strictSame(store.devices.findByAccount(ACCOUNT_A).map((d) => d.id).sort(), ['d1', 'd2']);
      t.strictSame(store.users.findByAccount(ACCOUNT_B).map((u) => u.id), ['u2']);
      t.strictSame(store.apiKeys.findByAccount(ACCOUNT_A).map((k) => k.keyHash), ['k1']);
      store.devices.delete('d1');
      t.strictSame(store.devices.findByAccount(ACCOUNT_A).map((d) => d.id), ['d2']);
      t.equal(store.devices.deleteByAccount(ACCOUNT_A), 1);
      t.equal(store.users.deleteByAccount(ACCOUNT_A), 1);
      t.equal(store.apiKeys.deleteByAccount(ACCOUNT_A), 1);
      t.equal(store.devices.deleteByAccount(ACCOUNT_A), 0);
      t.strictSame(store.devices.findByAccount(ACCOUNT_B).map((d) => d.id), ['d3'], 'other accounts keep theirs');
      t.strictSame(store.users.findByAccount(ACCOUNT_B).map((u) => u.id), ['u2']);
      t.strictSame(store.apiKeys.findByAccount(ACCOUNT_B).map((k) => k.keyHash), ['k2']);
      store.users.delete('u2');
      store.apiKeys.delete('k2');
      t.equal(store.users.get('u2'), undefined);
      t.equal(store.apiKeys.get('k2'), undefined);
    });

    t.test('findBySipUsername finds a device by account and SIP user name compared lower-cased, never another account\'s or a deleted one', async (t) => {
      const h = harness(t);
      let store = h.store;
      const alice = deviceRecord({ id: 'd1', sipUsername: 'Alice1001' });
      store.devices.put(alice);
      store.devices.put(deviceRecord({ id: 'd2', sipUsername: 'bob' }));
      store.devices.put(deviceRecord({ id: 'd3', accountId: ACCOUNT_B, sipUsername: 'carol' }));
      const check = (s: AdminDataStore, when: string): void => {
        t.strictSame(s.devices.findBySipUsername(ACCOUNT_A, 'Alice1001'), alice, `found field for field ${when}`);
        t.equal(s.devices.findBySipUsername(ACCOUNT_A, 'ALICE1001')?.id, 'd1', `case-insensitive (upper) ${when}`);
        t.equal(s.devices.findBySipUsername(ACCOUNT_A, 'alice1001')?.id, 'd1', `case-insensitive (lower) ${when}`);
        t.equal(s.devices.findBySipUsername(ACCOUNT_A, 'BOB')?.id, 'd2', `the other device ${when}`);
        t.equal(s.devices.findBySipUsername(ACCOUNT_A, 'carol'), undefined, `another account's device is not found ${when}`);
        t.equal(s.devices.findBySipUsername(ACCOUNT_B, 'alice1001'), undefined, `nor from the other side ${when}`);
        t.equal(s.devices.findBySipUsername(ACCOUNT_B, 'Carol')?.id, 'd3', `its own account finds it ${when}`);
        t.equal(s.devices.findBySipUsername(ACCOUNT_A, 'alice'), undefined, `a prefix is no match ${when}`);
      };
      check(store, 'after put');
      if (h.reopen) {
        store = h.reopen();
        check(store, 'after reopen');
      }
      const found = store.devices.findBySipUsername(ACCOUNT_A, 'alice1001')!;
      found.sipUsername = 'x';
      t.equal(store.devices.findBySipUsername(ACCOUNT_A, 'alice1001')?.sipUsername, 'Alice1001', 'a read is a copy (rule 3)');
      store.devices.put({ ...alice, sipUsername: 'Alice2002' });
      t.equal(store.devices.findBySipUsername(ACCOUNT_A, 'alice1001'), undefined, 'a renamed device is gone under its old name');
      t.equal(store.devices.findBySipUsername(ACCOUNT_A, 'ALICE2002')?.id, 'd1', 'and found under its new one');
      store.devices.delete('d1');
      t.equal(store.devices.findBySipUsername(ACCOUNT_A, 'alice2002'), undefined, 'a deleted device is not found');
      t.equal(store.devices.deleteByAccount(ACCOUNT_A), 1);
      t.equal(store.devices.findBySipUsername(ACCOUNT_A, 'bob'), undefined, 'nor one that went with deleteByAccount');
      t.equal(store.devices.findBySipUsername(ACCOUNT_B, 'carol')?.id, 'd3', 'other accounts keep theirs');
    });

    t.test('tokens are listed per account; those last used at or before a time go with deleteIdle; deleteByAccount drops an account\'s tokens', async (t) => {
      const { store } = harness(t);
      store.authTokens.put(authTokenRecord({ tokenHash: 'old', lastUsedAt: T0 }));
      store.authTokens.put(authTokenRecord({ tokenHash: 'edge', lastUsedAt: T0 + 10 }));
      store.authTokens.put(authTokenRecord({ tokenHash: 'fresh', lastUsedAt: T0 + 11 }));
      store.authTokens.put(authTokenRecord({ tokenHash: 'other', accountId: ACCOUNT_B, lastUsedAt: T0 + 99 }));
      t.strictSame(store.authTokens.findByAccount(ACCOUNT_A).map((r) => r.tokenHash).sort(), ['edge', 'fresh', 'old'], 'listed per account');
      t.strictSame(store.authTokens.findByAccount(ACCOUNT_B), [authTokenRecord({ tokenHash: 'other', accountId: ACCOUNT_B, lastUsedAt: T0 + 99 })], 'field for field');
      t.equal(store.authTokens.deleteIdle(T0 + 10), 2);
      t.equal(store.authTokens.get('old'), undefined);
      t.equal(store.authTokens.get('edge'), undefined);
      t.ok(store.authTokens.get('fresh'));
      store.authTokens.put(authTokenRecord({ tokenHash: 'fresh', lastUsedAt: T0 + 50 }));
      t.equal(store.authTokens.get('fresh')?.lastUsedAt, T0 + 50, 'put upserts by token hash');
      t.equal(store.authTokens.deleteByAccount(ACCOUNT_A), 1);
      t.strictSame(store.authTokens.findByAccount(ACCOUNT_A), [], 'none left for the account');
      t.ok(store.authTokens.get('other'));
      store.authTokens.delete('other');
      t.equal(store.authTokens.get('other'), undefined);
    });

    t.test('trusted peers read back field for field (also after reopen), list per account, go with deleteByAccount', async (t) => {
      const h = harness(t);
      let store = h.store;
      const full = trustedPeerRecord();
      const bare = trustedPeerRecord({ id: 'p2', cidr: '192.0.2.10/32', transport: null, fingerprint: null, name: null });
      const other = trustedPeerRecord({ id: 'p3', accountId: ACCOUNT_B, cidr: '10.0.0.0/8', transport: 'udp' });
      for (const r of [full, bare, other]) store.trustedPeers.put(r);
      const check = (s: AdminDataStore, when: string): void => {
        t.strictSame(s.trustedPeers.get(full.id), full, `peer ${when}`);
        t.strictSame(s.trustedPeers.get('p2'), bare, `peer with nulls ${when}`);
        t.strictSame(s.trustedPeers.findByAccount(ACCOUNT_A).map((p) => p.id).sort(), [full.id, 'p2'].sort(), `per account ${when}`);
        t.strictSame(s.trustedPeers.loadAll().map((p) => p.id).sort(), [full.id, 'p2', 'p3'].sort(), `all ${when}`);
      };
      check(store, 'after put');
      if (h.reopen) {
        store = h.reopen();
        check(store, 'after reopen');
      }
      const read = store.trustedPeers.get('p2')!;
      read.cidr = '0.0.0.0/0';
      t.equal(store.trustedPeers.get('p2')?.cidr, '192.0.2.10/32', 'a read is a copy (rule 3)');
      store.trustedPeers.put({ ...bare, name: 'renamed' });
      t.equal(store.trustedPeers.get('p2')?.name, 'renamed', 'put upserts by id');
      store.trustedPeers.delete('p2');
      store.trustedPeers.delete('p2');
      t.equal(store.trustedPeers.get('p2'), undefined);
      t.equal(store.trustedPeers.deleteByAccount(ACCOUNT_A), 1);
      t.strictSame(store.trustedPeers.findByAccount(ACCOUNT_A), []);
      t.strictSame(store.trustedPeers.findByAccount(ACCOUNT_B).map((p) => p.id), ['p3'], 'other accounts keep theirs');
    });

    t.test('after close every call throws store_closed and close is idempotent (rule 6)', async (t) => {
      const { store } = harness(t);
      store.accounts.put(accountRecord());
      store.close();
      t.doesNotThrow(() => store.close());
      const calls: [string, () => unknown][] = [
        ['accounts.loadAll', () => store.accounts.loadAll()],
        ['accounts.put', () => store.accounts.put(accountRecord())],
        ['devices.findByAccount', () => store.devices.findByAccount(ACCOUNT_A)],
        ['devices.findBySipUsername', () => store.devices.findBySipUsername(ACCOUNT_A, 'alice1001')],
        ['users.get', () => store.users.get('x')],
        ['apiKeys.put', () => store.apiKeys.put(apiKeyRecord())],
        ['authTokens.deleteIdle', () => store.authTokens.deleteIdle(0)],
        ['authTokens.findByAccount', () => store.authTokens.findByAccount(ACCOUNT_A)],
        ['trustedPeers.loadAll', () => store.trustedPeers.loadAll()],
        ['trustedPeers.put', () => store.trustedPeers.put(trustedPeerRecord())],
        ['flush', () => store.flush()],
      ];
      for (const [name, call] of calls) {
        t.throws(call, { name: 'StoreError', code: 'store_closed' }, name);
      }
    });
  });
}

/** A device from before digest secrets were kept (security.md §2.4): no `sipDigest` at all. */
function withoutDigest(d: DeviceRecord): DeviceRecord {
  const { sipDigest: _none, ...rest } = d;
  return rest;
}
