import t from 'tap';
import { createAccountServices } from '../../src/accounts/account-services.js';
import { bootstrap, createApiKeyCommand, firstStartMessage, tokenCommand, unusedBootstrapKeyMessage } from '../../src/accounts/bootstrap.js';
import { issueApiKey } from '../../src/accounts/api-keys.js';
import { UnknownIdError } from '../../src/accounts/account-errors.js';
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

t.test('PISTON_BOOTSTRAP_API_KEY chooses the key; it is stored hashed and handed back once for the first-start line', async (t) => {
  const store = createMemoryStore();
  const key = 'AB'.repeat(32);
  const res = bootstrap(store, { clock: new ManualClock(), apiKey: key, realm: 'PBX.Example', name: 'root' });
  t.equal(res.created, true);
  t.equal(res.apiKey, key.toLowerCase(), 'the real key, so the printed command works as pasted');
  t.equal(res.keySupplied, true);
  t.equal(store.apiKeys.get(sha256Hex(key.toLowerCase()))?.accountId, res.accountId);
  t.match(store.accounts.get(res.accountId), { name: 'root', realm: 'pbx.example' });
  t.match(res, { name: 'root', realm: 'pbx.example' });
  t.throws(() => bootstrap(createMemoryStore(), { clock: new ManualClock(), apiKey: 'short' }));
});

t.test('a store that has accounts is left alone, whatever key is configured', async (t) => {
  const store = createMemoryStore();
  const clock = new ManualClock();
  const first = bootstrap(store, { clock });
  const again = bootstrap(store, { clock, apiKey: 'c'.repeat(64) });
  t.strictSame(again, { created: false, accountId: first.accountId, suppliedKeyUnused: true }, 'an unknown configured key is reported, not used');
  t.equal(store.accounts.count(), 1);
  t.equal(store.apiKeys.findByAccount(first.accountId).length, 1);
  t.strictSame(bootstrap(store, { clock }), { created: false, accountId: first.accountId }, 'no key configured: nothing to report');
});

t.test('a configured key that is one of the stored keys is not reported on later starts', async (t) => {
  const store = createMemoryStore();
  const clock = new ManualClock();
  const key = 'd'.repeat(64);
  const first = bootstrap(store, { clock, apiKey: key });
  const again = bootstrap(store, { clock, apiKey: key.toUpperCase() });
  t.strictSame(again, { created: false, accountId: first.accountId });
});

t.test('the first-start text names the account and ends with a token command alone on its line', async (t) => {
  const generated = { created: true, accountId: 'f'.repeat(32), realm: 'localhost', name: 'master', apiKey: '1'.repeat(64), keySupplied: false };
  const text = firstStartMessage(generated, { host: '0.0.0.0', port: 8000 });
  const lines = text.split('\n');
  t.equal(lines.length, 3, 'two lines and the final newline');
  t.match(lines[0], `created account ${'f'.repeat(32)} (name "master", realm "localhost") with a new API key`);
  t.equal(lines[1], `curl -X PUT -d '{"data":{"api_key":"${'1'.repeat(64)}"}}' 'http://127.0.0.1:8000/v2/api_auth'`, 'the wildcard bind address becomes loopback');
  const supplied = { ...generated, accountId: 'e'.repeat(32), apiKey: 'a'.repeat(64), keySupplied: true };
  const other = firstStartMessage(supplied, { host: '::1', port: 8001 });
  t.match(other, 'the API key from PISTON_BOOTSTRAP_API_KEY');
  t.match(other, `"api_key":"${'a'.repeat(64)}"`, 'the supplied key itself, never the variable name inside single quotes');
  t.notMatch(other, '$PISTON');
  t.match(other, `'http://[::1]:8001/v2/api_auth'`, 'an IPv6 literal in brackets, quoted against shell globbing');
  t.equal(tokenCommand('b'.repeat(64), { host: '::', port: 1 }), `curl -X PUT -d '{"data":{"api_key":"${'b'.repeat(64)}"}}' 'http://127.0.0.1:1/v2/api_auth'`);
});

t.test('the unused-key warning names the variable and the recovery command for that data directory', async (t) => {
  t.match(unusedBootstrapKeyMessage('./data'), /^PISTON_BOOTSTRAP_API_KEY is set but .* Get a new key with: npm run admin -- create-api-key$/);
  t.equal(createApiKeyCommand('/var/lib/piston'), 'PISTON_DATA_DIR=/var/lib/piston npm run admin -- create-api-key');
  t.equal(createApiKeyCommand("/tmp/it's here"), `PISTON_DATA_DIR='/tmp/it'\\''s here' npm run admin -- create-api-key`, 'quoted for the shell');
});

t.test('issueApiKey adds a working key to an existing account and refuses an unknown one', async (t) => {
  const store = createMemoryStore();
  const clock = new ManualClock();
  const first = bootstrap(store, { clock });
  const key = issueApiKey(store, clock, first.accountId);
  t.match(key, /^[0-9a-f]{64}$/);
  t.not(key, first.apiKey);
  t.equal(store.apiKeys.findByAccount(first.accountId).length, 2, 'the old key stays');
  const services = createAccountServices({ store, clock, defaultAccountForUnknownDomains: true, scryptCost: 1024 });
  t.equal(services.auth.loginWithApiKey({ api_key: key }).account.id, first.accountId);
  t.throws(() => issueApiKey(store, clock, '0'.repeat(32)), UnknownIdError);
});

t.test('PISTON_SIP_TRUSTED_PEERS seeds the master account on first start only; the index sees them after a refresh', async (t) => {
  const store = createMemoryStore();
  const clock = new ManualClock();
  const peers = [{ cidr: '10.1.2.3/8' }, { cidr: '::1', transport: 'tcp' as const }, { cidr: '10.0.0.0/8' }];
  const res = bootstrap(store, { clock, trustedPeers: peers });
  const stored = store.trustedPeers.findByAccount(res.accountId).map((p) => ({ cidr: p.cidr, transport: p.transport, name: p.name }));
  t.strictSame(stored.sort((a, b) => (a.cidr < b.cidr ? -1 : 1)), [
    { cidr: '10.0.0.0/8', transport: null, name: 'PISTON_SIP_TRUSTED_PEERS' },
    { cidr: '::1/128', transport: 'tcp', name: 'PISTON_SIP_TRUSTED_PEERS' },
  ], 'canonical blocks, a repeated block written once');
  const services = createAccountServices({ store, clock, defaultAccountForUnknownDomains: true, scryptCost: 1024 });
  t.equal(services.trustedPeers.index.match({ address: '10.9.8.7', transport: 'udp' })[0]?.accountId, res.accountId);
  t.strictSame(services.trustedPeers.index.match({ address: '::1', transport: 'udp' }), [], 'the transport limit holds');
  const later = bootstrap(store, { clock, trustedPeers: [{ cidr: '192.0.2.0/24' }] });
  t.equal(later.created, false);
  t.equal(store.trustedPeers.loadAll().length, 2, 'a later start leaves the list to the API');
  t.throws(() => bootstrap(createMemoryStore(), { clock, trustedPeers: [{ cidr: 'pbx.example' }] }), /not an IP address or CIDR block/);
});
