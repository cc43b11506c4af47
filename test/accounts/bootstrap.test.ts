import t from 'tap';
import { createAccountServices } from '../../src/accounts/account-services.js';
import { bootstrap, firstStartMessage } from '../../src/accounts/bootstrap.js';
import { sha256Hex } from '../../src/accounts/secrets.js';
import { ManualClock } from '../../src/lib/clock.js';
import { createMemoryStore } from '../../src/store/memory/index.js';

t.test('first start with an empty store creates the master account and a random 64-hex API key', async (t) => {
  const store = createMemoryStore();
  const clock = new ManualClock();
  const res = bootstrap(store, { clock });
  t.equal(res.created, true);
  t.match(res.apiKey, /^[0-9a-f]{64}$/);
  t.strictSame(store.accounts.loadAll(), [
    { id: res.accountId, name: 'master', realm: 'localhost', parentId: null, createdAt: clock.now(), updatedAt: clock.now() },
  ]);
  t.strictSame(store.apiKeys.findByAccount(res.accountId), [{ keyHash: sha256Hex(res.apiKey!), accountId: res.accountId, createdAt: clock.now() }]);
  const services = createAccountServices({ store, clock, defaultAccountForUnknownDomains: true, scryptCost: 1024 });
  t.equal(services.auth.loginWithApiKey({ api_key: res.apiKey }).account.id, res.accountId, 'the key gets a token');
});

t.test('PISTON_BOOTSTRAP_API_KEY chooses the key; it is stored hashed and not handed back', async (t) => {
  const store = createMemoryStore();
  const key = 'AB'.repeat(32);
  const res = bootstrap(store, { clock: new ManualClock(), apiKey: key, realm: 'PBX.Example', name: 'root' });
  t.equal(res.created, true);
  t.equal(res.apiKey, undefined);
  t.equal(store.apiKeys.get(sha256Hex(key.toLowerCase()))?.accountId, res.accountId);
  t.match(store.accounts.get(res.accountId), { name: 'root', realm: 'pbx.example' });
  t.throws(() => bootstrap(createMemoryStore(), { clock: new ManualClock(), apiKey: 'short' }));
});

t.test('a store that has accounts is left alone, whatever key is configured', async (t) => {
  const store = createMemoryStore();
  const clock = new ManualClock();
  const first = bootstrap(store, { clock });
  const again = bootstrap(store, { clock, apiKey: 'c'.repeat(64) });
  t.strictSame(again, { created: false, accountId: first.accountId });
  t.equal(store.accounts.count(), 1);
  t.equal(store.apiKeys.findByAccount(first.accountId).length, 1);
});

t.test('the first-start line tells how to get a token with curl', async (t) => {
  const generated = { created: true, accountId: 'f'.repeat(32), apiKey: '1'.repeat(64) };
  t.equal(
    firstStartMessage(generated, { host: '0.0.0.0', port: 8000 }),
    `first start: created account ${'f'.repeat(32)}; get a token with: ` +
      `curl -X PUT -d '{"data":{"api_key":"${'1'.repeat(64)}"}}' http://127.0.0.1:8000/v2/api_auth`,
  );
  const supplied = { created: true, accountId: 'e'.repeat(32) };
  t.match(firstStartMessage(supplied, { host: '::1', port: 8001 }), `"api_key":"$PISTON_BOOTSTRAP_API_KEY"`);
  t.match(firstStartMessage(supplied, { host: '::1', port: 8001 }), 'http://[::1]:8001/v2/api_auth');
});
