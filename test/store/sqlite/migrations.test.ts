import fs from 'node:fs';
import Database from 'better-sqlite3';
import t from 'tap';
import { ManualClock } from '../../../src/lib/clock.js';
import { migrations, openSqliteStore, type Migration } from '../../../src/store/sqlite/index.js';
import { ACCOUNT_A, deviceRecord } from '../helpers/admin-records.js';
import { mailboxRecord } from '../helpers/records.js';
import { dbFile, onDisk, tempDataDir } from '../helpers/temp-dir.js';

const userVersion = (dataDir: string): number =>
  onDisk(dataDir, (db) => db.pragma('user_version', { simple: true }) as number);

const tables = (dataDir: string): string[] =>
  onDisk(dataDir, (db) =>
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map(
      (r) => r.name,
    ),
  );

/** Steps that count their runs, so a test can see which ran and how often. */
function countingSteps(n: number, runs: number[]): Migration[] {
  return Array.from({ length: n }, (_, i) => ({
    description: `step ${i + 1}`,
    up(db) {
      db.exec(`CREATE TABLE step_${i + 1} (x INTEGER)`);
      runs[i] = (runs[i] ?? 0) + 1;
    },
  }));
}

function open(dataDir: string, steps?: readonly Migration[]) {
  return openSqliteStore({ dataDir, clock: new ManualClock(), ...(steps ? { migrations: steps } : {}) });
}

t.test('a v0 file is migrated to the latest schema and user_version records it', async (t) => {
  const dataDir = tempDataDir(t);
  // A v0 file: a valid SQLite database that has never seen a migration (user_version 0).
  const raw = new Database(dbFile(dataDir));
  raw.exec('CREATE TABLE unrelated (x INTEGER); INSERT INTO unrelated VALUES (1)');
  t.equal(raw.pragma('user_version', { simple: true }), 0);
  raw.close();

  const store = open(dataDir);
  t.equal(store.ready.migratedFrom, 0);
  t.equal(store.ready.schemaVersion, migrations.length);
  store.mailboxes.put(mailboxRecord());
  store.close();
  t.equal(userVersion(dataDir), migrations.length);
  t.strictSame(tables(dataDir), [
    'accounts', 'api_keys', 'auth_tokens', 'devices', 'mailboxes', 'publications', 'resource_states', 'subscriptions', 'trusted_peers',
    'unrelated', 'users',
  ]);
  t.equal(
    onDisk(dataDir, (db) => (db.prepare('SELECT x FROM unrelated').get() as { x: number }).x),
    1,
    'leaves what it does not own alone',
  );

  const again = open(dataDir);
  t.teardown(() => again.close());
  t.equal(again.ready.migratedFrom, null, 'nothing to migrate on reopen');
  t.equal((await again.mailboxes.loadAll()).length, 1);
});

t.test('reopening a migrated file runs no step again', async (t) => {
  const dataDir = tempDataDir(t);
  const runs: number[] = [];
  const steps = [...migrations, ...countingSteps(2, runs)];
  open(dataDir, steps).close();
  t.strictSame(runs, [1, 1]);
  open(dataDir, steps).close();
  open(dataDir, steps).close();
  t.strictSame(runs, [1, 1]);
  t.equal(userVersion(dataDir), migrations.length + 2);
});

t.test('steps appended later run once each, starting from the version the file is at', async (t) => {
  const dataDir = tempDataDir(t);
  const runs: number[] = [];
  const all = [...migrations, ...countingSteps(3, runs)];
  open(dataDir, all.slice(0, migrations.length + 1)).close();
  t.strictSame(runs, [1]);
  const store = open(dataDir, all);
  t.equal(store.ready.migratedFrom, migrations.length + 1);
  t.equal(store.ready.schemaVersion, migrations.length + 3);
  store.close();
  t.strictSame(runs, [1, 1, 1]);
});

t.test('a step that fails rolls back to the last good version and the open fails', async (t) => {
  const dataDir = tempDataDir(t);
  const bad: Migration = {
    description: 'breaks half-way',
    up(db) {
      db.exec('CREATE TABLE half_done (x INTEGER)');
      throw new Error('boom');
    },
  };
  t.throws(() => open(dataDir, [...migrations, bad]), { name: 'StoreError', code: 'store_open_failed' });
  t.equal(userVersion(dataDir), migrations.length, 'the good steps are kept');
  t.notOk(tables(dataDir).includes('half_done'), 'the failed step left nothing behind');
});

t.test('existing rows survive a later step that adds a column', async (t) => {
  const dataDir = tempDataDir(t);
  const first = open(dataDir);
  first.mailboxes.put(mailboxRecord());
  first.close();
  const addColumn: Migration = {
    description: 'mailboxes.note',
    up(db) {
      db.exec("ALTER TABLE mailboxes ADD COLUMN note TEXT NOT NULL DEFAULT ''");
    },
  };
  const second = open(dataDir, [...migrations, addColumn]);
  t.teardown(() => second.close());
  t.strictSame(await second.mailboxes.loadAll(), [mailboxRecord()]);
  second.mailboxes.put(mailboxRecord({ newMessages: 9 }));
  second.flush();
  t.equal((await second.mailboxes.get(mailboxRecord().mailbox))!.newMessages, 9);
});

t.test('devices from before the SIP user name index are found by it after the migration, and the lookup uses it (issue 19)', async (t) => {
  const dataDir = tempDataDir(t);
  const before = open(dataDir, migrations.slice(0, -1));
  before.devices.put(deviceRecord({ sipUsername: 'Alice1001' }));
  before.close();
  const store = open(dataDir);
  t.equal(store.ready.migratedFrom, migrations.length - 1);
  t.equal(store.devices.findBySipUsername(ACCOUNT_A, 'ALICE1001')?.id, deviceRecord().id);
  store.close();
  // The query as SqliteDeviceRepository.findBySipUsername writes it: SQLite must search the index, not scan devices.
  const plan = onDisk(dataDir, (db) =>
    (db.prepare('EXPLAIN QUERY PLAN SELECT * FROM devices WHERE account_id = ? AND lower(sip_username) = ? LIMIT 1').all(ACCOUNT_A, 'alice1001') as { detail: string }[])
      .map((r) => r.detail)
      .join('; '),
  );
  t.match(plan, /SEARCH devices USING INDEX devices_account_sip_username \(account_id=\? AND <expr>=\?\)/, plan);
});

t.test('a file with a newer schema than this build is refused with a clear error', async (t) => {
  const dataDir = tempDataDir(t);
  const raw = new Database(dbFile(dataDir));
  raw.pragma('user_version = 99');
  raw.close();
  const before = fs.readFileSync(dbFile(dataDir));
  t.throws(() => open(dataDir), {
    name: 'StoreError',
    code: 'store_version_too_new',
    message: new RegExp(`schema version 99, but this build knows versions up to ${migrations.length}`),
  });
  t.ok(fs.readFileSync(dbFile(dataDir)).equals(before), 'the file is left untouched');
});

t.test('a file that is not a SQLite database is refused with a clear error', async (t) => {
  const dataDir = tempDataDir(t);
  const garbage = Buffer.alloc(8192, 0xa5);
  fs.writeFileSync(dbFile(dataDir), garbage);
  t.throws(() => open(dataDir), {
    name: 'StoreError',
    code: 'store_corrupt',
    message: /piston\.sqlite is not a readable SQLite database/,
  });
  t.ok(fs.readFileSync(dbFile(dataDir)).equals(garbage), 'the file is left untouched');
});
