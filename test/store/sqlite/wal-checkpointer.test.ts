import fs from 'node:fs';
import Database from 'better-sqlite3';
import t from 'tap';
import { ManualClock } from '../../../src/lib/clock.js';
import { recordingLogger, silentLogger } from '../../../src/lib/logger.js';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/index.js';
import { WalCheckpointer } from '../../../src/store/sqlite/wal-checkpointer.js';
import { subscriptionRecord } from '../helpers/records.js';
import { dbFile, onDisk, tempDataDir } from '../helpers/temp-dir.js';
import { pollUntil } from '../../support/poll-until.js';

/** Waits until `ok()` holds; the thread answers asynchronously. Bounded, so a broken thread fails the test. */
async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  if (!(await pollUntil(ok, ms))) throw new Error(`timed out waiting for ${what}`);
}

function putMany(store: SqliteStore, n: number, tag: string): void {
  for (let i = 0; i < n; i++) store.subscriptions.put(subscriptionRecord({ callId: `${tag}-${i}` }));
}

t.test('WAL checkpoints run on the worker thread after commits, at most once per interval (SQLite WAL mode)', async (t) => {
  const dataDir = tempDataDir(t);
  const clock = new ManualClock();
  const store = openSqliteStore({ dataDir, clock, checkpointIntervalMs: 1000 }) as SqliteStore;
  t.teardown(() => store.close());
  await until('the thread to start', () => store.walCheckpoints!.onThread);

  putMany(store, 200, 'a');
  store.flush();
  await until('the first checkpoint', () => store.walCheckpoints!.done === 1);
  const first = store.walCheckpoints!;
  t.equal(first.requested, 1, 'the commit asked for one');
  t.ok(first.lastLog > 0, 'the commit left frames in the WAL');
  t.equal(first.lastCheckpointed, first.lastLog, 'the thread copied every frame back (no writer was in the way)');

  putMany(store, 10, 'b');
  store.flush();
  t.equal(store.walCheckpoints!.requested, 1, 'a commit within the interval does not ask again');
  clock.advance(1000);
  putMany(store, 10, 'c');
  store.flush();
  t.equal(store.walCheckpoints!.requested, 2, 'the first commit after the interval does');
  await until('the second checkpoint', () => store.walCheckpoints!.done === 2);
  t.equal(store.walCheckpoints!.failed, 0);
  t.equal(onDisk(dataDir, (db) => (db.prepare('SELECT COUNT(*) AS n FROM subscriptions').get() as { n: number }).n), 220);
});

t.test('closing the store closes the thread first, so the last connection removes the WAL file; data survives', async (t) => {
  const dataDir = tempDataDir(t);
  const clock = new ManualClock();
  const store = openSqliteStore({ dataDir, clock }) as SqliteStore;
  await until('the thread to start', () => store.walCheckpoints!.onThread);
  putMany(store, 50, 'x');
  store.flush();
  await until('a checkpoint', () => store.walCheckpoints!.done === 1);
  t.ok(fs.existsSync(`${dbFile(dataDir)}-wal`), 'a WAL file while open');
  store.close();
  t.notOk(fs.existsSync(`${dbFile(dataDir)}-wal`), 'no WAL file after close');
  const again = openSqliteStore({ dataDir, clock, checkpointIntervalMs: 0 });
  t.teardown(() => again.close());
  t.equal((await again.subscriptions.loadAll()).length, 50);
});

t.test('checkpointIntervalMs 0 leaves checkpoints to SQLite on the event loop (no thread)', async (t) => {
  const store = openSqliteStore({ dataDir: tempDataDir(t), clock: new ManualClock(), checkpointIntervalMs: 0 }) as SqliteStore;
  t.teardown(() => store.close());
  t.equal(store.walCheckpoints, undefined);
});

t.test('while the thread runs the event loop keeps a backstop threshold; a thread that fails hands checkpoints back to SQLite', async (t) => {
  const dataDir = tempDataDir(t);
  const db = new Database(dbFile(dataDir));
  t.teardown(() => db.close());
  db.pragma('journal_mode = WAL');
  const autocheckpoint = (): number => db.pragma('wal_autocheckpoint', { simple: true }) as number;

  const working = new WalCheckpointer(db, {
    location: dbFile(dataDir),
    clock: new ManualClock(),
    logger: silentLogger,
    busyTimeoutMs: 200,
    minIntervalMs: 1000,
  });
  await until('the thread to start', () => working.active);
  t.equal(autocheckpoint(), 10_000, 'SQLite checkpoints on this connection only if the WAL grows to ~40 MB anyway');
  working.close();

  const logger = recordingLogger();
  const records = logger.records;
  const broken = new WalCheckpointer(db, {
    location: dbFile(dataDir),
    clock: new ManualClock(),
    logger,
    busyTimeoutMs: 200,
    minIntervalMs: 1000,
    threadSource: 'throw new Error("no thread today")',
  });
  await until('the fallback', () => records.some((r) => r.msg === 'WAL checkpoints run on the event loop again'));
  t.equal(broken.active, false);
  t.equal(autocheckpoint(), 1000, "SQLite's default automatic checkpoints are back");
  broken.committed();
  t.equal(broken.stats.requested, 0, 'nothing is asked of a thread that is gone');
  broken.close();
});
