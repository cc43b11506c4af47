import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/lib/clock.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { distEntry, runToExit, type RunResult } from '../support/run-to-exit.js';
import { freePort, removeDir, startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * Issue 17 acceptance on the built server: a start that cannot listen leaves no account behind, so the next start
 * is again a first start; the first-start command, pasted into a shell as printed, gets a token; a key for an
 * existing data directory comes from `npm run admin -- create-api-key`; start-up errors name their variable, once,
 * without a stack trace.
 */

const READY_MS = 60_000;
const running = new Set<ServerProcess>();
const dirs: string[] = [];
t.teardown(async () => {
  for (const s of running) await s.stop();
  for (const d of dirs) removeDir(d);
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'piston-first-start-'));
  dirs.push(d);
  return d;
}

async function start(opts: { dataDir: string; sipPort: number; apiPort: number; env?: Record<string, string> }): Promise<ServerProcess> {
  const s = await startServerProcess({ ...opts, env: { PISTON_WARM_UP_ROUNDS: '0', ...opts.env }, readyTimeoutMs: READY_MS });
  running.add(s);
  return s;
}

async function stop(s: ServerProcess): Promise<number | null> {
  running.delete(s);
  return s.stop();
}

/** What the test harness's servers get, for a start run to its exit. */
function envFor(dir: string, sipPort: number, apiPort: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PISTON_SIP_HOST: '127.0.0.1,::1',
    PISTON_SIP_PORT: String(sipPort),
    PISTON_API_HOST: '127.0.0.1',
    PISTON_API_PORT: String(apiPort),
    PISTON_DATA_DIR: dir,
    PISTON_WARM_UP_ROUNDS: '0',
    ...extra,
  };
}

function accountsIn(dir: string): number {
  const store = openSqliteStore({ dataDir: dir, clock: new ManualClock(), checkpointIntervalMs: 0 });
  try {
    return store.accounts.count();
  } finally {
    store.close();
  }
}

function holdTcp(port: number): Promise<Server> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(port, '127.0.0.1', () => res(srv));
  });
}

function holdUdp(port: number): Promise<UdpSocket> {
  return new Promise((res, rej) => {
    const s = createSocket('udp4');
    s.once('error', rej);
    s.bind(port, '127.0.0.1', () => res(s));
  });
}

/** The token command of a first-start or create-api-key text: the line that starts with `curl `. */
function commandIn(text: string): string {
  const line = text.split('\n').find((l) => l.startsWith('curl '));
  if (!line) throw new Error(`no curl command in:\n${text}`);
  return line;
}

/** The plain first-start text or its JSON log line (the unused-key warning also says "first start"). */
const FIRST_START = /^first start: |"msg":"first start: /;
const firstStarted = (s: ServerProcess): boolean => s.lines.some((l) => FIRST_START.test(l));

/** Pastes `command` into bash as it is and returns what curl printed, parsed. */
function paste(command: string): Promise<{ auth_token?: string; status?: string; data?: { account_id?: string } }> {
  return new Promise((res, rej) => {
    execFile('bash', ['-c', command], { timeout: 30_000 }, (err, stdout) => {
      if (err) return rej(err);
      try {
        res(JSON.parse(stdout) as { auth_token?: string });
      } catch {
        rej(new Error(`curl printed no JSON: ${stdout}`));
      }
    });
  });
}

async function apiAuth(apiPort: number, apiKey: string): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${apiPort}/v2/api_auth`, { method: 'PUT', body: JSON.stringify({ data: { api_key: apiKey } }) });
  await r.arrayBuffer();
  return r.status;
}

const noStack = (t: Test, r: RunResult): void => {
  t.notMatch(r.stdout + r.stderr, /^\s+at /m, 'no stack trace');
};

t.test('a start whose API port is taken leaves no account; the next start is a first start whose command, pasted, gets a token', async (t) => {
  const dir = dataDir();
  const sipPort = await freePort();
  const apiPort = await freePort();
  const blocker = await holdTcp(apiPort);
  const failed = await runToExit(distEntry('main'), [], envFor(dir, sipPort, apiPort));
  blocker.close();
  t.equal(failed.code, 1, 'the start fails with status 1');
  t.match(
    failed.stderr,
    `cannot start: the admin API cannot listen on 127.0.0.1:${apiPort} (TCP): the port is already in use by another process. ` +
      `Stop that process or choose another port with PISTON_API_PORT (now ${apiPort}).`,
    'one plain line naming the variable, the host and the port',
  );
  t.equal(failed.stderr.trim().split('\n').length, 1, 'and nothing else on standard error');
  noStack(t, failed);
  t.notMatch(failed.stdout + failed.stderr, /first start/, 'no first-start text for a start that failed');
  t.equal(accountsIn(dir), 0, 'no account stored by the failed start');

  const server = await start({ dataDir: dir, sipPort, apiPort });
  const head = await server.waitForLog(/^first start: created account/);
  const line = String(head.line);
  t.match(line, /^first start: created account [0-9a-f]{32} \(name "master", realm "localhost"\) with a new API key/);
  const accountId = /account ([0-9a-f]{32})/.exec(line)![1];
  const command = commandIn(server.lines.join('\n'));
  t.match(command, new RegExp(`^curl -X PUT -d '\\{"data":\\{"api_key":"[0-9a-f]{64}"\\}\\}' 'http://127\\.0\\.0\\.1:${apiPort}/v2/api_auth'$`));
  const reply = await paste(command);
  t.equal(reply.status, 'success', 'the pasted command is answered with success');
  t.match(reply.auth_token, /^[A-Za-z0-9_-]{20,}$/, 'and a token');
  t.equal(reply.data?.account_id, accountId, 'for the account the line named');
  const me = await fetch(`http://127.0.0.1:${apiPort}/v2/accounts/${accountId}`, { headers: { 'x-auth-token': reply.auth_token! } });
  t.equal(me.status, 200, 'the token works');
  await me.arrayBuffer();
  const logged = server.lines.find((l) => l.includes('"msg":"first start'));
  t.ok(logged, 'the JSON log records the first start');
  t.notMatch(logged ?? '', /[0-9a-f]{64}/, 'without the key');
  t.equal(await stop(server), 0);

  const again = await start({ dataDir: dir, sipPort, apiPort });
  t.notOk(firstStarted(again), 'a later start is not a first start');
  t.equal(await stop(again), 0);
  t.equal(accountsIn(dir), 1, 'one account');
});

t.test('a SIP port taken on UDP or TCP, or an address not of this machine, stops the start naming the variable; no account is left', async (t) => {
  const dir = dataDir();
  const apiPort = await freePort();
  const udpPort = await freePort();
  const udp = await holdUdp(udpPort);
  const byUdp = await runToExit(distEntry('main'), [], envFor(dir, udpPort, apiPort));
  udp.close();
  t.equal(byUdp.code, 1);
  t.match(byUdp.stderr, `cannot start: SIP (UDP and TCP) cannot listen on 127.0.0.1:${udpPort} (UDP): the port is already in use`);
  t.match(byUdp.stderr, `choose another port with PISTON_SIP_PORT (now ${udpPort})`);
  noStack(t, byUdp);

  const tcpPort = await freePort();
  const tcp = await holdTcp(tcpPort);
  const byTcp = await runToExit(distEntry('main'), [], envFor(dir, tcpPort, apiPort));
  tcp.close();
  t.equal(byTcp.code, 1);
  t.match(byTcp.stderr, `127.0.0.1:${tcpPort} (TCP): the port is already in use`);
  t.match(byTcp.stderr, 'PISTON_SIP_PORT');
  noStack(t, byTcp);

  // 192.0.2.1 is TEST-NET-1 (RFC 5737): an IP address, but none of this machine's.
  const foreign = await runToExit(distEntry('main'), [], envFor(dir, await freePort(), apiPort, { PISTON_API_HOST: '192.0.2.1' }));
  t.equal(foreign.code, 1);
  t.match(foreign.stderr, `the admin API cannot listen on 192.0.2.1:${apiPort} (TCP): 192.0.2.1 is not an address of this machine. Set PISTON_API_HOST`);
  noStack(t, foreign);
  t.equal(accountsIn(dir), 0, 'none of the failed starts stored an account');
});

t.test('PISTON_BOOTSTRAP_API_KEY: the printed command holds the key itself; a different key later is reported with the recovery command', async (t) => {
  const dir = dataDir();
  const sipPort = await freePort();
  const apiPort = await freePort();
  const first = 'ab'.repeat(32);
  const server = await start({ dataDir: dir, sipPort, apiPort, env: { PISTON_BOOTSTRAP_API_KEY: first.toUpperCase() } });
  await server.waitForLog(/^curl /);
  const command = commandIn(server.lines.join('\n'));
  t.match(command, `"api_key":"${first}"`, 'the key itself');
  t.notMatch(command, /\$/, 'no shell variable (single quotes would keep it from expanding)');
  t.match(server.lines.join('\n'), 'with the API key from PISTON_BOOTSTRAP_API_KEY');
  t.match((await paste(command)).auth_token, /^[A-Za-z0-9_-]{20,}$/, 'pasted, it gets a token');
  t.equal(await stop(server), 0);

  const second = 'cd'.repeat(32);
  const later = await start({ dataDir: dir, sipPort, apiPort, env: { PISTON_BOOTSTRAP_API_KEY: second } });
  const warning = String((await later.waitForLog(/^warning: PISTON_BOOTSTRAP_API_KEY/)).line);
  t.match(warning, `is not an API key of the data directory ${dir}`);
  t.match(warning, `Get a new key with: PISTON_DATA_DIR=${dir} npm run admin -- create-api-key`);
  const json = await later.waitForLog(/"level":40.*PISTON_BOOTSTRAP_API_KEY/);
  t.match(json, { variable: 'PISTON_BOOTSTRAP_API_KEY', recovery: `PISTON_DATA_DIR=${dir} npm run admin -- create-api-key` }, 'and a JSON warning');
  t.equal(await apiAuth(apiPort, second), 401, 'the unused key does not log in');
  t.equal(await apiAuth(apiPort, first), 201, 'the first key still does');
  t.notOk(firstStarted(later), 'not a first start');
  await stop(later);
});

t.test('npm run admin -- create-api-key: a key for a stopped server\'s data directory, and one beside a running server', async (t) => {
  const dir = dataDir();
  const sipPort = await freePort();
  const apiPort = await freePort();
  const server = await start({ dataDir: dir, sipPort, apiPort });
  t.equal(await stop(server), 0);

  const env = { PISTON_DATA_DIR: dir, PISTON_API_HOST: '0.0.0.0', PISTON_API_PORT: String(apiPort) };
  const made = await runToExit(distEntry('admin'), ['create-api-key'], env);
  t.equal(made.code, 0, made.stderr);
  const key = made.stdout.split('\n')[1]!;
  t.match(key, /^[0-9a-f]{64}$/);
  const command = commandIn(made.stdout);
  t.match(command, `'http://127.0.0.1:${apiPort}/v2/api_auth'`, 'the wildcard API host becomes loopback');

  const restarted = await start({ dataDir: dir, sipPort, apiPort });
  t.notOk(firstStarted(restarted), 'the key did not turn the next start into a first one');
  t.equal(await apiAuth(apiPort, key), 201, 'the key made while the server was stopped logs in');
  t.match((await paste(command)).auth_token, /^[A-Za-z0-9_-]{20,}$/, 'and its printed command, pasted, gets a token');

  const beside = await runToExit(distEntry('admin'), ['create-api-key'], env);
  t.equal(beside.code, 0, beside.stderr);
  t.equal(await apiAuth(apiPort, beside.stdout.split('\n')[1]!), 201, 'a key made beside the running server works at once');
  t.equal(await stop(restarted), 0, 'the server still stops cleanly');
});

t.test("configuration errors through npm start's entry: named by variable and value, status 2, no stack trace", async (t) => {
  const cases: [Record<string, string>, string][] = [
    [{ PISTON_SIP_HOST: 'localhost' }, 'PISTON_SIP_HOST="localhost": "localhost" is not an IP address'],
    [{ PISTON_API_HOST: '999.1.1.1' }, 'PISTON_API_HOST="999.1.1.1": "999.1.1.1" is not an IP address'],
    [{ PISTON_API_PORT: '80000' }, 'PISTON_API_PORT="80000"'],
  ];
  for (const [env, expected] of cases) {
    const r = await runToExit(distEntry('start'), [], { PISTON_DATA_DIR: join(tmpdir(), 'piston-never-made'), ...env });
    t.equal(r.code, 2, `${Object.keys(env)[0]}: status 2`);
    t.match(r.stderr, /^invalid configuration:\n/);
    t.match(r.stderr, expected);
    t.equal(r.stdout, '', 'nothing started, nothing logged');
    noStack(t, r);
  }
});
