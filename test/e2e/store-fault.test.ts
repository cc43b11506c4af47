import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { damagePage, SUBSCRIPTION_ID_INDEX } from '../store/helpers/damage.js';
import { subscriptionRecord } from '../store/helpers/records.js';
import { dbFile } from '../store/helpers/temp-dir.js';
import { distEntry, runToExit, type RunResult } from '../support/run-to-exit.js';
import { freePort, removeDir, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { SipEndpoint } from '../support/sip-watcher.js';

/**
 * A store that cannot write says so at once, over real sockets against the built server: /healthz 503 with the
 * fault, piston_store_healthy 0, one error line, and a new SUBSCRIBE or PUBLISH answered 503 with Retry-After
 * (RFC 3261 §21.5.4, §20.33) instead of 200 and lost at the next restart. A database that is empty or unreadable
 * stops the start with a message and makes no new master account.
 */

const servers: ServerProcess[] = [];
const dirs: string[] = [];
t.teardown(async () => {
  for (const s of servers) await s.stop();
  for (const d of dirs) removeDir(d);
});

async function start(dataDir?: string): Promise<ServerProcess> {
  const s = await startServerProcess({ env: { PISTON_WARM_UP_ROUNDS: '0' }, ...(dataDir ? { dataDir } : {}) });
  servers.push(s);
  if (!dirs.includes(s.dataDir)) dirs.push(s.dataDir);
  return s;
}

async function health(s: ServerProcess): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${s.apiPort}/healthz`);
  return { status: res.status, body: await res.json() };
}

async function metrics(s: ServerProcess): Promise<string> {
  return (await fetch(`http://127.0.0.1:${s.apiPort}/metrics`)).text();
}

/** Polls /healthz until it answers `status`, for at most `ms`; returns the last answer. */
async function healthBecomes(s: ServerProcess, status: number, ms: number): Promise<{ status: number; body: any }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const h = await health(s);
    if (h.status === status || Date.now() > deadline) return h;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const dialog = (id: string) => ({ id, callId: `${id}-call`, localTag: 'l', remoteTag: 'r', state: 'confirmed', direction: 'recipient' as const });

t.test('a damaged page start-up does not read: /healthz 503 with the cause, metric 0, one error line, new SUBSCRIBE and PUBLISH 503 with Retry-After', async (t) => {
  // A database with a subscription in it, stopped cleanly, then damaged where every subscription write goes.
  const first = await start();
  const dataDir = first.dataDir;
  const phone = await SipEndpoint.udp(first.sipPort);
  t.teardown(() => phone.close());
  const held = await phone.subscribe({ resource: '1001', user: 'w1', expires: 3600 });
  t.equal(held.response.status, 200);
  t.equal(await first.stop(), 0);
  damagePage(dataDir, SUBSCRIPTION_ID_INDEX);

  const server = await start(dataDir);
  t.equal((await health(server)).status, 200, 'the damage does not show at start: start-up never reads that page');
  const ep = await SipEndpoint.udp(server.sipPort);
  t.teardown(() => ep.close());
  // The first write after the start is what meets the damage: it is answered before its flush, 50 ms later, fails.
  t.equal((await ep.subscribe({ resource: '1002', user: 'w2' })).response.status, 200);
  const failing = await healthBecomes(server, 503, 5000);
  t.equal(failing.status, 503, '/healthz is 503 once the first flush has failed');
  t.match(failing.body, {
    sip: 'ready',
    status: 'unavailable',
    store: 'failing',
    store_fault: { code: /^SQLITE_CORRUPT/, cause: 'database disk image is malformed', failed_flushes: Number, since: String },
  });
  const text = await metrics(server);
  t.match(text, /^piston_store_healthy 0$/m);
  const failures = Number(/^piston_store_flush_failures_total (\d+)$/m.exec(text)?.[1]);
  t.ok(failures >= 1, `piston_store_flush_failures_total ${failures}`);

  const refused = await ep.subscribe({ resource: '1003', user: 'w3' });
  t.equal(refused.response.status, 503, 'a new SUBSCRIBE is refused (RFC 3261 §21.5.4)');
  t.equal(refused.response.header('retry-after'), '30', 'with Retry-After (RFC 3261 §20.33)');
  const published = await ep.publishDialog({ resource: '1001', dialog: dialog('d1') });
  t.equal(published.response.status, 503, 'a new PUBLISH is refused');
  t.equal(published.response.header('retry-after'), '30');
  t.equal(published.etag, undefined);

  // The subscription restored from before the damage lives in memory: its refresh is answered as before.
  const refresh = await ep.subscribe({ resource: '1001', user: 'w1', callId: held.callId, fromTag: held.fromTag, toTag: held.toTag!, cseq: 2 });
  t.equal(refresh.response.status, 200, 'a refresh of a subscription held is answered (RFC 6665 §4.2.1.2)');

  // Flushes are retried every 50 ms, then every second; the log says it once.
  await new Promise((r) => setTimeout(r, 1500));
  const errorLines = server.lines.filter((l) => /store flush/.test(l));
  t.equal(errorLines.length, 1, `one error line, not one per retry (${errorLines.length})`);
  t.match(JSON.parse(errorLines[0]!), { level: 50, code: /^SQLITE_CORRUPT/, location: dbFile(dataDir), msg: /malformed/ });
  t.ok(Number(/^piston_store_flush_failures_total (\d+)$/m.exec(await metrics(server))?.[1]) > failures, 'the retries go on and are counted');
  t.equal((await health(server)).status, 503, 'still failing: the damage is still there');
});

t.test('a store blocked by another writer recovers: /healthz, the metric and new SUBSCRIBEs come back once a flush commits', async (t) => {
  const server = await start();
  const blocker = new Database(dbFile(server.dataDir));
  t.teardown(() => {
    if (blocker.open) blocker.close();
  });
  blocker.exec('BEGIN IMMEDIATE');
  const ep = await SipEndpoint.udp(server.sipPort);
  t.teardown(() => ep.close());
  t.equal((await ep.subscribe({ resource: '2001', user: 'w1' })).response.status, 200);
  const failing = await healthBecomes(server, 503, 5000);
  t.match(failing.body, { store: 'failing', store_fault: { code: 'SQLITE_BUSY' } });
  t.equal((await ep.subscribe({ resource: '2002', user: 'w2' })).response.status, 503);

  blocker.exec('ROLLBACK');
  blocker.close();
  const healed = await healthBecomes(server, 200, 5000);
  t.strictSame(healed.body, { sip: 'ready', status: 'ok', store: 'ready' }, '/healthz is 200 again');
  t.match(await metrics(server), /^piston_store_healthy 1$/m);
  t.equal((await ep.subscribe({ resource: '2003', user: 'w3' })).response.status, 200, 'new subscriptions are accepted again');
  await server.waitForLog(/store writes succeed again/, 2000);
  const onDisk = new Database(dbFile(server.dataDir), { readonly: true });
  try {
    const n = (onDisk.prepare("SELECT COUNT(*) AS n FROM subscriptions WHERE resource = '2001'").get() as { n: number }).n;
    t.equal(n, 1, 'the subscription acknowledged during the fault reached the disk once the lock was gone');
  } finally {
    onDisk.close();
  }
});

/** Runs `npm start`'s entry on `dataDir` and waits for it to exit by itself (a start that must fail). */
async function startExpectingExit(dataDir: string): Promise<RunResult> {
  return runToExit(distEntry('start'), [], {
    PISTON_SIP_HOST: '127.0.0.1',
    PISTON_SIP_PORT: String(await freePort()),
    PISTON_API_HOST: '127.0.0.1',
    PISTON_API_PORT: String(await freePort()),
    PISTON_DATA_DIR: dataDir,
    PISTON_WARM_UP_ROUNDS: '0',
  }, 15_000);
}

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'piston-e2e-'));
  dirs.push(d);
  return d;
}

t.test('a 0-byte database beside a clean-shutdown mark stops the start with a message, and no new master account is made', async (t) => {
  const dataDir = tempDir();
  fs.writeFileSync(dbFile(dataDir), '');
  fs.writeFileSync(path.join(dataDir, 'clean-shutdown'), new Date().toISOString() + '\n');
  const run = await startExpectingExit(dataDir);
  t.not(run.code, 0, `exit code ${run.code}`);
  t.not(run.code, null, 'it exited by itself');
  t.match(run.stderr, `${dbFile(dataDir)} is empty (0 bytes)`, 'the message names the file');
  t.match(run.stderr, /Restore it from a backup, or move it away/, 'and says what to do');
  t.notMatch(run.stderr + run.stdout, /^\s+at /m, 'no stack trace');
  t.notMatch(run.stdout, /first start|"msg":"ready"/, 'no first start, never ready');
  t.equal(fs.statSync(dbFile(dataDir)).size, 0, 'nothing was written: no account, no API key');
});

t.test('a database file that is not a database stops the start with a message naming the file', async (t) => {
  const dataDir = tempDir();
  fs.writeFileSync(dbFile(dataDir), Buffer.alloc(8192, 0xa5));
  const run = await startExpectingExit(dataDir);
  t.not(run.code, 0);
  t.not(run.code, null);
  t.match(run.stderr, `${dbFile(dataDir)} is not a readable SQLite database`);
  t.match(run.stderr, /restore it from a backup, or move it away/);
  t.notMatch(run.stderr + run.stdout, /^\s+at /m, 'no stack trace');
});

t.test('a damaged page that start-up reads stops the start with a message naming the file, without a stack trace', async (t) => {
  const dataDir = tempDir();
  const seed = openSqliteStore({ dataDir, clock: new ManualClock(Date.now()), checkpointIntervalMs: 0 });
  seed.subscriptions.put(subscriptionRecord({ expiresAt: Date.now() + 3_600_000 }));
  seed.close();
  damagePage(dataDir, 'subscriptions');
  const run = await startExpectingExit(dataDir);
  t.not(run.code, 0);
  t.not(run.code, null);
  t.match(run.stderr, `${dbFile(dataDir)} is damaged (SQLITE_CORRUPT: database disk image is malformed); restore it from a backup`);
  t.notMatch(run.stderr + run.stdout, /^\s+at |"stack"/m, 'no stack trace');
});
