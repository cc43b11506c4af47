import t from 'tap';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAdmin } from '../../src/admin/admin-cli.js';
import { bootstrap, createAccountServices } from '../../src/accounts/index.js';
import { ManualClock } from '../../src/lib/clock.js';
import { openSqliteStore, SQLITE_FILE_NAME } from '../../src/store/sqlite/index.js';
import type { StoreBackend } from '../../src/store/ports.js';
import { tempDataDir } from '../store/helpers/temp-dir.js';

/**
 * `npm run admin -- create-api-key` (src/admin/admin-cli.ts): a new API key for an existing data directory, without
 * the admin API, printed once with a command that exchanges it for a token.
 */

const clock = new ManualClock(1_800_000_000_000);

function open(dataDir: string): StoreBackend {
  return openSqliteStore({ dataDir, clock, checkpointIntervalMs: 0 });
}

/** A data directory as a first start leaves it: the master account and one key. */
function startedOnce(t: Parameters<typeof tempDataDir>[0]): { dataDir: string; accountId: string; firstKey: string } {
  const dataDir = tempDataDir(t);
  const store = open(dataDir);
  const boot = bootstrap(store, { clock });
  store.close();
  return { dataDir, accountId: boot.accountId, firstKey: boot.apiKey! };
}

function login(store: StoreBackend, apiKey: string): string {
  const services = createAccountServices({ store, clock, defaultAccountForUnknownDomains: true, scryptCost: 1024 });
  return services.auth.loginWithApiKey({ api_key: apiKey }).account.id;
}

t.test('create-api-key adds a key to the first account and prints it once with a token command', async (t) => {
  const { dataDir, accountId, firstKey } = startedOnce(t);
  const res = runAdmin(['create-api-key'], { PISTON_DATA_DIR: dataDir, PISTON_API_HOST: '0.0.0.0', PISTON_API_PORT: '8123' }, { clock });
  t.equal(res.code, 0, res.err);
  t.equal(res.err, '');
  const lines = res.out.trimEnd().split('\n');
  t.match(lines[0], `created an API key for account ${accountId} (name "master", realm "localhost")`);
  const key = lines[1]!;
  t.match(key, /^[0-9a-f]{64}$/, 'the key alone on the second line');
  t.not(key, firstKey);
  t.equal(lines[3], `curl -X PUT -d '{"data":{"api_key":"${key}"}}' 'http://127.0.0.1:8123/v2/api_auth'`, 'the command for the configured API port');
  const store = open(dataDir);
  t.teardown(() => store.close());
  t.equal(login(store, key), accountId, 'the new key logs in (PUT /v2/api_auth)');
  t.equal(login(store, firstKey), accountId, 'the old key still does');
});

t.test('--account picks another account; an unknown or malformed id is refused and nothing is written', async (t) => {
  const { dataDir, accountId } = startedOnce(t);
  const services = (() => {
    const store = open(dataDir);
    const s = createAccountServices({ store, clock, defaultAccountForUnknownDomains: true });
    return { store, child: s.accounts.create(accountId, accountId, { name: 'branch', realm: 'branch.example.com' }) };
  })();
  services.store.close();
  const child = services.child.id;
  for (const argv of [['create-api-key', '--account', child], ['create-api-key', `--account=${child.toUpperCase()}`]]) {
    const res = runAdmin(argv, { PISTON_DATA_DIR: dataDir }, { clock });
    t.equal(res.code, 0, argv.join(' '));
    t.match(res.out, `account ${child} (name "branch", realm "branch.example.com")`);
    const store = open(dataDir);
    t.equal(login(store, res.out.split('\n')[1]!), child);
    store.close();
  }
  const unknown = runAdmin(['create-api-key', '--account', 'f'.repeat(32)], { PISTON_DATA_DIR: dataDir }, { clock });
  t.equal(unknown.code, 1);
  t.equal(unknown.out, '', 'no key printed');
  t.match(unknown.err, `no account ${'f'.repeat(32)}`);
  t.match(unknown.err, `${accountId}  master  localhost`, 'the accounts there are listed');
  const bad = runAdmin(['create-api-key', '--account', 'master'], { PISTON_DATA_DIR: dataDir }, { clock });
  t.equal(bad.code, 2);
  t.match(bad.err, '--account needs an account id (32 hexadecimal characters), got "master"');
  const store = open(dataDir);
  t.equal(store.apiKeys.findByAccount(accountId).length, 1, 'refusals added no key');
  t.equal(store.apiKeys.findByAccount(child).length, 2);
  store.close();
});

t.test('a missing, empty or account-less database is refused and left as it was', async (t) => {
  const none = tempDataDir(t);
  const missing = runAdmin(['create-api-key'], { PISTON_DATA_DIR: none }, { clock });
  t.equal(missing.code, 1);
  t.match(missing.err, `no database at ${join(none, SQLITE_FILE_NAME)} (PISTON_DATA_DIR=${none})`);
  t.throws(() => statSync(join(none, SQLITE_FILE_NAME)), 'no database was created');

  const emptyDir = tempDataDir(t);
  writeFileSync(join(emptyDir, SQLITE_FILE_NAME), '');
  const empty = runAdmin(['create-api-key'], { PISTON_DATA_DIR: emptyDir }, { clock });
  t.equal(empty.code, 1);
  t.match(empty.err, 'is empty (0 bytes)');
  t.equal(statSync(join(emptyDir, SQLITE_FILE_NAME)).size, 0, 'the empty file is not turned into a fresh database');

  const failed = tempDataDir(t);
  open(failed).close(); // what a start that could not listen leaves: a schema, no account
  const noAccount = runAdmin(['create-api-key'], { PISTON_DATA_DIR: failed }, { clock });
  t.equal(noAccount.code, 1);
  t.match(noAccount.err, 'no account yet: start the server');
  const store = open(failed);
  t.equal(store.accounts.count(), 0, 'still none, so the next start is a first start');
  store.close();
});

t.test('beside a running server (its store open): the new key works through that store at once (SQLite WAL, no cache)', async (t) => {
  const { dataDir, accountId } = startedOnce(t);
  const server = open(dataDir);
  t.teardown(() => server.close());
  await server.subscriptions.count(); // the server's connection is open and has read
  const res = runAdmin(['create-api-key'], { PISTON_DATA_DIR: dataDir }, { clock });
  t.equal(res.code, 0, res.err);
  t.equal(login(server, res.out.split('\n')[1]!), accountId, "the server's store sees the key without a restart");
});

t.test('usage: help prints it, an unknown command or option and a bad variable are refused with status 2', async (t) => {
  for (const argv of [[], ['help'], ['--help']]) {
    const res = runAdmin(argv, {}, { clock });
    t.equal(res.code, 0);
    t.match(res.out, 'usage: npm run admin -- <command>');
  }
  t.match(runAdmin(['make-key'], {}, { clock }), { code: 2, err: /unknown command "make-key"/ });
  t.match(runAdmin(['create-api-key', '--force'], {}, { clock }), { code: 2, err: /unknown option "--force"/ });
  t.match(runAdmin(['create-api-key'], { PISTON_API_PORT: 'x' }, { clock }), { code: 2, err: /PISTON_API_PORT="x"/ });
});
