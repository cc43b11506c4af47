import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { ManualClock } from '../../../src/lib/clock.js';
import { recordingLogger, type LogRecord } from '../../../src/lib/logger.js';
import { createMemoryStore } from '../../../src/store/memory/index.js';
import { StoreError } from '../../../src/store/store-error.js';
import { openSqliteStore, storeStartError } from '../../../src/store/sqlite/index.js';
import { FAILING_RETRY_MS, FAULT_LOG_INTERVAL_MS } from '../../../src/store/sqlite/write-behind.js';
import { damagePage, SUBSCRIPTION_ID_INDEX } from '../helpers/damage.js';
import { subscriptionRecord } from '../helpers/records.js';
import { dbFile, onDisk, tempDataDir } from '../helpers/temp-dir.js';

const FLUSH_MS = 50;
const errors = (records: LogRecord[]): LogRecord[] => records.filter((r) => r.level === 'error');
const sub = (n: number) => subscriptionRecord({ callId: `call-${n}@example.com` });

/** A store with two subscriptions on disk, closed, its id index damaged, and opened again. */
function damagedStore(tt: { teardown(fn: () => void): void }) {
  const dataDir = tempDataDir(tt);
  const clock = new ManualClock();
  const first = openSqliteStore({ dataDir, clock, checkpointIntervalMs: 0 });
  first.subscriptions.put(sub(1));
  first.subscriptions.put(sub(2));
  first.close();
  damagePage(dataDir, SUBSCRIPTION_ID_INDEX);
  const logger = recordingLogger();
  const store = openSqliteStore({ dataDir, clock, logger, checkpointIntervalMs: 0, flushIntervalMs: FLUSH_MS });
  tt.teardown(() => {
    try {
      store.close();
    } catch {
      // its last flush fails too: the damage is still there
    }
  });
  return { dataDir, clock, logger, store };
}

t.test('a damaged page that opening does not read fails the first flush: writeHealth names SQLITE_CORRUPT and keeps the writes', async (t) => {
  const { store, clock } = damagedStore(t);
  t.equal(store.subscriptions.loadAll().length, 2, 'start-up reads what it needs: the damage does not show yet');
  t.strictSame(store.writeHealth(), { writable: true, fault: null, failedFlushes: 0 });
  const s3 = sub(3);
  store.subscriptions.put(s3);
  clock.advance(FLUSH_MS);
  const health = store.writeHealth();
  t.equal(health.writable, false, 'the failed flush makes the store unwritable');
  t.match(health.fault, { code: /^SQLITE_CORRUPT/, message: /malformed/, since: clock.now() });
  t.equal(health.failedFlushes, 1);
  t.strictSame(store.subscriptions.get(s3.id), s3, 'the write is kept, still readable');
  t.throws(() => store.flush(), { name: 'StoreError', code: 'store_write_failed', message: /piston\.sqlite failed/ }, 'an explicit flush names the file');
  t.equal(store.writeHealth().failedFlushes, 2, 'every failed flush counts');
});

t.test('the fault is logged once, naming the cause and the file, then at most once a minute while flushes keep failing', async (t) => {
  const { store, clock, logger, dataDir } = damagedStore(t);
  store.subscriptions.put(sub(3));
  clock.advance(FLUSH_MS);
  const since = clock.now();
  t.equal(errors(logger.records).length, 1, 'one error at once');
  t.match(errors(logger.records)[0], {
    msg: /^store flush failed; will retry \(SQLITE_CORRUPT\w*: database disk image is malformed\)$/,
    obj: { code: /^SQLITE_CORRUPT/, cause: /malformed/, location: dbFile(dataDir), pending: 1 },
  });
  clock.advance(FAULT_LOG_INTERVAL_MS - FLUSH_MS - 1);
  const failed = store.writeHealth().failedFlushes;
  t.ok(failed > 50, `the retries went on (${failed} flushes failed)`);
  t.equal(errors(logger.records).length, 1, 'but none of them logged again');
  clock.advance(FAILING_RETRY_MS);
  t.equal(errors(logger.records).length, 2, 'a reminder a minute later');
  t.match(errors(logger.records)[1], {
    msg: /^store flushes still failing; will retry \(SQLITE_CORRUPT/,
    obj: { failedFlushes: store.writeHealth().failedFlushes, failingSince: new Date(since).toISOString() },
  });
});

t.test('retries come every flush interval for the first second of a fault, then once a second', async (t) => {
  const { store, clock } = damagedStore(t);
  store.subscriptions.put(sub(3));
  clock.advance(FLUSH_MS);
  t.equal(store.writeHealth().failedFlushes, 1);
  clock.advance(FAILING_RETRY_MS - FLUSH_MS);
  t.equal(store.writeHealth().failedFlushes, FAILING_RETRY_MS / FLUSH_MS, 'one retry per flush interval for the first second');
  const before = store.writeHealth().failedFlushes;
  clock.advance(10 * FAILING_RETRY_MS);
  t.equal(store.writeHealth().failedFlushes - before, 10, 'then one a second');
  t.equal(clock.pending, 1, 'one retry timer, never more');
});

t.test('a full buffer does not flush on every write while the store is failing', async (t) => {
  const dataDir = tempDataDir(t);
  const clock = new ManualClock();
  const seed = openSqliteStore({ dataDir, clock, checkpointIntervalMs: 0 });
  seed.subscriptions.put(sub(0));
  seed.close();
  damagePage(dataDir, SUBSCRIPTION_ID_INDEX);
  const store = openSqliteStore({ dataDir, clock, checkpointIntervalMs: 0, maxPendingWrites: 3 });
  t.teardown(() => {
    try {
      store.close();
    } catch {
      // the damage is still there
    }
  });
  for (let i = 1; i <= 4; i++) store.subscriptions.put(sub(i));
  t.equal(store.writeHealth().failedFlushes, 1, 'the fourth key flushed at once, and failed');
  for (let i = 5; i <= 20; i++) store.subscriptions.put(sub(i));
  t.equal(store.writeHealth().failedFlushes, 1, 'later writes wait for the retry timer');
});

t.test('when a flush commits again the store is writable, says so once, and the kept writes are on disk', async (t) => {
  const dataDir = tempDataDir(t);
  const clock = new ManualClock();
  const logger = recordingLogger();
  const store = openSqliteStore({ dataDir, clock, logger, checkpointIntervalMs: 0, busyTimeoutMs: 0, flushIntervalMs: FLUSH_MS });
  t.teardown(() => store.close());
  const blocker = new Database(dbFile(dataDir));
  t.teardown(() => blocker.close());
  blocker.exec('BEGIN IMMEDIATE');
  store.subscriptions.put(sub(1));
  clock.advance(3 * FLUSH_MS);
  t.match(store.writeHealth(), { writable: false, fault: { code: 'SQLITE_BUSY' }, failedFlushes: 3 }, 'a lock held by another writer is a fault too');
  blocker.exec('ROLLBACK');
  clock.advance(FLUSH_MS);
  t.strictSame(store.writeHealth(), { writable: true, fault: null, failedFlushes: 3 }, 'writable again; the count of failures stays');
  t.equal(onDisk(dataDir, (db) => (db.prepare('SELECT COUNT(*) AS n FROM subscriptions').get() as { n: number }).n), 1);
  const said = logger.records.filter((r) => /^store (flush|writes)/.test(r.msg ?? '')).map((r) => [r.level, r.msg]);
  t.match(
    said,
    [
      ['error', /^store flush failed; will retry \(SQLITE_BUSY/],
      ['info', 'store writes succeed again'],
    ],
  );
  t.equal(said.length, 2, 'one line when it broke, one when it healed');
  t.equal(clock.pending, 0, 'nothing left to retry');
});

t.test('the memory store always takes writes', async (t) => {
  t.strictSame(createMemoryStore().writeHealth(), { writable: true, fault: null, failedFlushes: 0 });
});

// ---- what opening accepts: a first start only where there is no database file at all ----

t.test('a 0-byte database is refused, even beside a clean-shutdown mark, naming the file and what to do', async (t) => {
  const dataDir = tempDataDir(t);
  fs.writeFileSync(dbFile(dataDir), '');
  fs.writeFileSync(path.join(dataDir, 'clean-shutdown'), new Date().toISOString() + '\n');
  t.throws(() => openSqliteStore({ dataDir, clock: new ManualClock() }), {
    name: 'StoreError',
    code: 'store_empty',
    message: new RegExp(`^${dbFile(dataDir).replace(/[.\\/]/g, '\\$&')} is empty \\(0 bytes\\).*Restore it from a backup, or move it away .*start afresh with a new master account$`),
  });
  t.equal(fs.statSync(dbFile(dataDir)).size, 0, 'the file is left as it was: nothing was created in it');
  t.strictSame(fs.readdirSync(dataDir).sort(), ['clean-shutdown', 'piston.sqlite'], 'and nothing beside it');
});

t.test('a write-ahead log without its database is refused rather than replayed into a new one', async (t) => {
  const dataDir = tempDataDir(t);
  const clock = new ManualClock();
  // A crash leaves the WAL beside the database; then the database alone is moved away.
  const store = openSqliteStore({ dataDir, clock, checkpointIntervalMs: 0 });
  store.subscriptions.put(sub(1));
  store.flush();
  const wal = `${dbFile(dataDir)}-wal`;
  t.ok(fs.statSync(wal).size > 0, 'the WAL holds the commit');
  const kept = path.join(dataDir, 'kept');
  fs.mkdirSync(kept);
  fs.copyFileSync(wal, path.join(kept, 'wal'));
  store.close();
  fs.rmSync(dbFile(dataDir));
  fs.copyFileSync(path.join(kept, 'wal'), wal);
  t.throws(() => openSqliteStore({ dataDir, clock }), {
    name: 'StoreError',
    code: 'store_missing',
    message: /piston\.sqlite is missing, but its write-ahead log .*piston\.sqlite-wal is there/,
  });
  t.notOk(fs.existsSync(dbFile(dataDir)), 'no new database was created');
});

t.test('no database file (an absent or empty data directory) is a first start', async (t) => {
  const parent = tempDataDir(t);
  const absent = path.join(parent, 'absent');
  const empty = path.join(parent, 'empty');
  fs.mkdirSync(empty);
  for (const dataDir of [absent, empty]) {
    const store = openSqliteStore({ dataDir, clock: new ManualClock() });
    t.equal(store.ready.migratedFrom, 0, `${path.basename(dataDir)}: a new database`);
    store.close();
  }
});

t.test('a start that fails on what it reads is told as a StoreError naming the file and what to do; other failures are not', async (t) => {
  const dataDir = tempDataDir(t);
  const clock = new ManualClock();
  const seed = openSqliteStore({ dataDir, clock, checkpointIntervalMs: 0 });
  seed.subscriptions.put(sub(1));
  seed.close();
  damagePage(dataDir, 'subscriptions');
  const store = openSqliteStore({ dataDir, clock, checkpointIntervalMs: 0 });
  t.teardown(() => store.close());
  let thrown: unknown;
  try {
    store.subscriptions.loadAll();
  } catch (err) {
    thrown = err;
  }
  t.match(thrown, { code: /^SQLITE_CORRUPT/ }, "loading the damaged table fails with SQLite's error");
  const told = storeStartError(thrown, dataDir);
  t.ok(told instanceof StoreError);
  t.match(told, {
    code: 'store_corrupt',
    message: `${dbFile(dataDir)} is damaged (SQLITE_CORRUPT: database disk image is malformed); restore it from a backup, or move it away`,
  });
  const own = new StoreError('store_empty', 'x');
  t.equal(storeStartError(own, dataDir), own, "the store's own errors pass as they are");
  t.equal(storeStartError(new Error('listen EADDRINUSE'), dataDir), undefined, 'not the database: not a store error');
  t.match(storeStartError(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }), dataDir), {
    code: 'store_open_failed',
    message: /could not be used \(SQLITE_BUSY: database is locked\); check that .* no other program holds the database locked$/,
  });
});
