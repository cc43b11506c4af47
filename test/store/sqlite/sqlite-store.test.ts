import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { ManualClock } from '../../../src/lib/clock.js';
import { recordingLogger, type LogRecord } from '../../../src/lib/logger.js';
import type { ManualState } from '../../../src/store/records.js';
import { migrations, openSqliteStore, type SqliteStoreOptions } from '../../../src/store/sqlite/index.js';
import {
  AWKWARD_BODY,
  mailboxRecord,
  publicationRecord,
  resourceStateRecord,
  subscriptionRecord,
} from '../helpers/records.js';
import { dbFile, onDisk, tempDataDir } from '../helpers/temp-dir.js';

type Opts = Partial<SqliteStoreOptions>;
const errors = (records: LogRecord[]): LogRecord[] => records.filter((r) => r.level === 'error');

function setup(tt: { teardown(fn: () => void): void }, opts: Opts = {}) {
  // The directory's removal is registered first; tap runs teardowns last-registered first, so the store closes before.
  const dataDir = opts.dataDir ?? tempDataDir(tt);
  const clock = (opts.clock as ManualClock | undefined) ?? new ManualClock();
  const store = openSqliteStore({ dataDir, clock, ...opts });
  tt.teardown(() => store.close());
  const rows = (table: string): number =>
    onDisk(dataDir, (db) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n);
  return { dataDir, clock, store, rows };
}

t.test('a buffered write is readable at once but reaches the file only on flush() (read-your-writes)', async (t) => {
  const { store, rows, clock } = setup(t);
  const sub = subscriptionRecord();
  store.subscriptions.put(sub);
  store.publications.put(publicationRecord());
  store.resources.put(resourceStateRecord());
  store.mailboxes.put(mailboxRecord());
  t.strictSame(await store.subscriptions.get(sub.id), sub, 'visible through the store');
  t.ok(await store.publications.get(publicationRecord()));
  t.ok(await store.resources.get(resourceStateRecord().resource));
  t.ok(await store.mailboxes.get(mailboxRecord().mailbox));
  for (const table of ['subscriptions', 'publications', 'resource_states', 'mailboxes']) {
    t.equal(rows(table), 0, `${table} not yet on disk`);
  }
  store.flush();
  for (const table of ['subscriptions', 'publications', 'resource_states', 'mailboxes']) {
    t.equal(rows(table), 1, `${table} on disk after flush()`);
  }
  t.equal(clock.pending, 0, 'flush() cancels the interval timer');
});

t.test('buffered writes reach the file once the injected clock passes flushIntervalMs, not before', async (t) => {
  const { store, rows, clock } = setup(t, { flushIntervalMs: 50 });
  store.subscriptions.put(subscriptionRecord({ callId: 'first' }));
  clock.advance(30);
  store.subscriptions.put(subscriptionRecord({ callId: 'second' }));
  t.equal(clock.pending, 1, 'one timer for the whole buffer, armed by the first write');
  clock.advance(19);
  t.equal(rows('subscriptions'), 0, '49 ms after the first write: still buffered');
  clock.advance(1);
  t.equal(rows('subscriptions'), 2, 'at 50 ms both writes are committed together');
  t.equal(clock.pending, 0, 'no timer while nothing is pending');
  store.subscriptions.put(subscriptionRecord({ callId: 'third' }));
  clock.advance(50);
  t.equal(rows('subscriptions'), 3, 'the next write arms a new interval');
});

t.test('more than maxPendingWrites buffered keys flush at once, without waiting for the clock', async (t) => {
  const { store, rows } = setup(t, { maxPendingWrites: 3 });
  for (const c of ['a', 'b', 'c']) store.subscriptions.put(subscriptionRecord({ callId: c }));
  t.equal(rows('subscriptions'), 0, 'three pending keys wait');
  store.mailboxes.put(mailboxRecord());
  t.equal(rows('subscriptions'), 3, 'the fourth pending key triggers a flush');
  t.equal(rows('mailboxes'), 1);
});

t.test('writes to one key between flushes coalesce into one row write holding the newest value', async (t) => {
  const { store, dataDir } = setup(t);
  onDisk(dataDir, (db) =>
    db.exec(`
      CREATE TABLE audit (n INTEGER);
      CREATE TRIGGER audit_insert AFTER INSERT ON subscriptions BEGIN INSERT INTO audit VALUES (1); END;
      CREATE TRIGGER audit_update AFTER UPDATE ON subscriptions BEGIN INSERT INTO audit VALUES (1); END;
    `),
  );
  const sub = subscriptionRecord();
  for (let cseq = 1; cseq <= 10; cseq++) store.subscriptions.put({ ...sub, localCseq: cseq, version: cseq - 1 });
  store.flush();
  onDisk(dataDir, (db) => {
    t.equal((db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n, 1, 'one row write');
    t.match(db.prepare('SELECT local_cseq, version FROM subscriptions').get(), { local_cseq: 10, version: 9 });
  });
});

t.test('a buffered delete hides the record at once and removes the row on flush', async (t) => {
  const { store, rows } = setup(t);
  const sub = subscriptionRecord();
  store.subscriptions.put(sub);
  store.flush();
  store.subscriptions.delete(sub.id);
  t.equal(await store.subscriptions.get(sub.id), undefined);
  t.equal(rows('subscriptions'), 1, 'still on disk while buffered');
  store.flush();
  t.equal(rows('subscriptions'), 0);
  store.subscriptions.put(sub);
  store.subscriptions.delete(sub.id);
  store.subscriptions.put({ ...sub, strikes: 2 });
  store.flush();
  t.equal(rows('subscriptions'), 1, 'put, delete, put of one key ends as the last put');
  t.equal((await store.subscriptions.get(sub.id))!.strikes, 2);
});

t.test('close() flushes what is still buffered', async (t) => {
  const { store, rows } = setup(t);
  store.publications.put(publicationRecord());
  store.close();
  t.equal(rows('publications'), 1);
});

t.test('every record type survives close and reopen, the body byte for byte', async (t) => {
  const dataDir = tempDataDir(t);
  const clock = new ManualClock();
  const first = openSqliteStore({ dataDir, clock });
  const sub = subscriptionRecord({ eventId: 'x1', flow: { ...subscriptionRecord().flow, connectionId: 12 } });
  const pub = publicationRecord({ seq: first.publications.nextSeq() });
  const rs = resourceStateRecord({ manualState: 'early' });
  const mb = mailboxRecord();
  first.subscriptions.put(sub);
  first.publications.put(pub);
  first.resources.put(rs);
  first.mailboxes.put(mb);
  first.close();

  const second = openSqliteStore({ dataDir, clock });
  t.teardown(() => second.close());
  t.strictSame(await second.subscriptions.loadAll(), [sub]);
  const pubs = await second.publications.loadAll();
  t.equal(pubs.length, 1);
  t.ok(pubs[0]!.body.equals(AWKWARD_BODY), 'body byte-exact with NUL and high bytes');
  t.strictSame(pubs[0], pub);
  t.strictSame(await second.resources.loadAll(), [rs]);
  t.strictSame(await second.mailboxes.loadAll(), [mb]);
  t.ok(second.publications.nextSeq() > pub.seq, 'publication seq keeps rising across restarts');
});

t.test('the store lives in <dataDir>/piston.sqlite in WAL mode and creates a missing data directory', async (t) => {
  const parent = tempDataDir(t);
  const dataDir = path.join(parent, 'nested', 'data');
  const { store } = setup(t, { dataDir });
  t.ok(fs.existsSync(dbFile(dataDir)));
  t.strictSame(store.ready, {
    backend: 'sqlite',
    location: dbFile(dataDir),
    schemaVersion: migrations.length,
    migratedFrom: 0,
  });
  t.equal(onDisk(dataDir, (db) => db.pragma('journal_mode', { simple: true })), 'wal');
});

t.test('a write the database refuses is dropped and logged without holding back the other writes', async (t) => {
  const logger = recordingLogger();
  const { store, rows } = setup(t, { logger });
  store.resources.put(resourceStateRecord({ manualState: 'ringing' as ManualState }));
  store.mailboxes.put(mailboxRecord());
  t.doesNotThrow(() => store.flush());
  t.equal(rows('mailboxes'), 1, 'the good write landed');
  t.equal(rows('resource_states'), 0, 'the refused one did not');
  t.equal(await store.resources.get(resourceStateRecord().resource), undefined, 'and is no longer pending');
  t.match(errors(logger.records), [{ msg: 'store dropped a write the database refused' }]);
});

t.test('a flush blocked by another writer keeps every write and retries on the next interval', async (t) => {
  const logger = recordingLogger();
  const { store, rows, clock, dataDir } = setup(t, { logger, busyTimeoutMs: 0 });
  const blocker = new Database(dbFile(dataDir));
  t.teardown(() => blocker.close());
  blocker.exec('BEGIN IMMEDIATE');
  const sub = subscriptionRecord();
  store.subscriptions.put(sub);
  t.throws(() => store.flush(), { name: 'StoreError', code: 'store_write_failed' }, 'explicit flush reports it');
  t.strictSame(await store.subscriptions.get(sub.id), sub, 'the write is still pending and readable');
  clock.advance(50);
  t.match(errors(logger.records), [{ msg: 'store flush failed; will retry' }], 'timer flush logs');
  blocker.exec('ROLLBACK');
  t.equal(rows('subscriptions'), 0);
  clock.advance(50);
  t.equal(rows('subscriptions'), 1, 'the retry commits once the lock is gone');
  t.equal(clock.pending, 0);
});

t.test('close() reports a final flush that cannot commit and leaves no retry timer behind', async (t) => {
  const logger = recordingLogger();
  const { store, clock, dataDir } = setup(t, { logger, busyTimeoutMs: 0 });
  const blocker = new Database(dbFile(dataDir));
  t.teardown(() => blocker.close());
  blocker.exec('BEGIN IMMEDIATE');
  store.mailboxes.put(mailboxRecord());
  t.throws(() => store.close(), { name: 'StoreError', code: 'store_write_failed' });
  t.equal(clock.pending, 0, 'no timer will touch the closed database');
  await t.rejects(store.mailboxes.get('x'), { code: 'store_closed' });
  blocker.exec('ROLLBACK');
});
