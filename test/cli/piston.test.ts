import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { freePort, repoRoot, startServerForFile } from '../support/server-process.js';
import { SipEndpoint } from '../support/sip-watcher.js';

// The support CLI (issue 23 item 4, operator-ux.md §7) against the built server over real sockets: each command,
// --json output, data on stdout and messages on stderr, and each exit code (0 ok, 1 error, 2 usage, 3 not found,
// 4 auth, 5 unreachable). Run `npm run build` first.

const API_KEY = 'c3'.repeat(32);
const server = await startServerForFile(t, { env: { PISTON_BOOTSTRAP_API_KEY: API_KEY, PISTON_BOOTSTRAP_REALM: '127.0.0.1' } });
const URL_ = `http://127.0.0.1:${server.apiPort}`;
const BIN = join(repoRoot, 'dist', 'src', 'cli', 'piston.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function piston(args: string[], env: Record<string, string> = {}, onStdout?: (text: string) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', PISTON_URL: URL_, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const login = await piston(['login', '--api-key', API_KEY, '--export']);
const TOKEN = /PISTON_TOKEN=(\S+)/.exec(login.stdout)?.[1] ?? '';
const ACCOUNT = /PISTON_ACCOUNT=(\S+)/.exec(login.stdout)?.[1] ?? '';
const ENV = { PISTON_TOKEN: TOKEN, PISTON_ACCOUNT: ACCOUNT };

t.test('login: an API key gives a token (stdout), --export prints shell exports; a wrong key exits 4', async (t) => {
  t.equal(login.code, 0);
  t.match(TOKEN, /^\S{16,}$/);
  t.match(ACCOUNT, /^[0-9a-f]{32}$/);
  const plain = await piston(['login', '--api-key', API_KEY]);
  t.equal(plain.code, 0);
  t.match(plain.stdout.trim(), /^\S+$/, 'only the token on stdout');
  t.match(plain.stderr, /account [0-9a-f]{32}/, 'the message on stderr');
  const wrong = await piston(['login', '--api-key', 'd'.repeat(64)]);
  t.equal(wrong.code, 4);
  t.equal(wrong.stdout, '');
  const none = await piston(['login']);
  t.equal(none.code, 2, 'no key: usage');
});

t.test('list, show and history answer from the API after a real SUBSCRIBE and PUBLISH; --json gives the data', async (t) => {
  const phone = await SipEndpoint.udp(server.sipPort);
  const pbx = await SipEndpoint.udp(server.sipPort);
  t.teardown(() => Promise.all([phone.close(), pbx.close()]));
  const sub = await phone.subscribe({ resource: '1001', user: '2002', expires: 600 });
  t.equal(sub.response.status, 200);
  const pub = await pbx.publishDialog({
    resource: '1001',
    dialog: { id: 'd1', callId: 'call-1', localTag: 'l1', remoteTag: 'r1', state: 'early', direction: 'recipient' },
    expires: 120,
  });
  t.equal(pub.response.status, 200);
  await new Promise((r) => setTimeout(r, 300));

  const list = await piston(['list', '--json'], ENV);
  t.equal(list.code, 0);
  const listed = JSON.parse(list.stdout);
  t.ok(listed.subscriptions['1001'].dialog[sub.callId], 'the subscription, as GET …/presence gives it');
  const table = await piston(['list'], ENV);
  t.equal(table.code, 0);
  t.match(table.stdout, /RESOURCE\s+EVENT\s+WATCHER/);
  t.match(table.stdout, /1001\s+dialog\s+2002@127\.0\.0\.1/);
  t.notMatch(table.stdout, /\u001b\[/, 'no colour when stdout is not a terminal');

  const show = await piston(['show', '1001', '--json'], ENV);
  t.equal(show.code, 0);
  const x = JSON.parse(show.stdout);
  t.match(x, { extension: '1001', state: 'early', cause: 'publication', manual: null });
  t.match(x.publications[0], { event: 'dialog', state: 'early', publisher: { transport: 'udp' } });
  t.match(x.publications[0].publisher.source, /^127\.0\.0\.1:\d+$/);
  t.match(x.watchers[0], { watcher: '2002@127.0.0.1', event: 'dialog', last_notify: { answer: { status: 200 } } });
  const human = await piston(['show', '1001'], ENV);
  t.equal(human.code, 0);
  t.match(human.stdout, /^1001 {2}early {2}\(cause: publication\)/);

  const history = await piston(['history', '1001', '--json'], ENV);
  t.equal(history.code, 0);
  const entries = JSON.parse(history.stdout) as { kind: string; action?: string; status?: number; seq: number }[];
  const kinds = entries.map((e) => e.kind);
  for (const k of ['subscribe', 'publish', 'state', 'notify', 'notify-result']) t.ok(kinds.includes(k), `history has ${k}`);
  t.ok(entries.some((e) => e.kind === 'notify-result' && e.status === 200), "the watcher's answer to the NOTIFY the PUBLISH caused");
  t.strictSame(entries.map((e) => e.seq), [...entries.map((e) => e.seq)].sort((a, b) => b - a), 'newest first');
  const limited = await piston(['history', '1001', '--limit', '1', '--kind', 'notify'], ENV);
  t.equal(limited.code, 0);
  t.equal(limited.stdout.trim().split('\n').length, 1);
  t.match(limited.stderr, /older entries remain/);
});

t.test('set and reset an extension; the history says who; bad states and missing arguments exit 2', async (t) => {
  const set = await piston(['set', '1002', 'confirmed'], ENV);
  t.equal(set.code, 0);
  t.equal(set.stdout, '', 'the API message goes to stderr');
  t.match(set.stderr, /command sent/);
  const shown = JSON.parse((await piston(['show', '1002', '--json'], ENV)).stdout);
  t.match(shown, { state: 'confirmed', cause: 'manual', manual: { state: 'confirmed', by: { account_id: ACCOUNT, method: 'api_key' } } });
  const reset = await piston(['reset', '1002', '--json'], ENV);
  t.equal(reset.code, 0);
  t.equal(JSON.parse(reset.stdout), 'reset command sent for extension 1002');
  const manual = JSON.parse((await piston(['history', '1002', '--json', '--kind', 'manual'], ENV)).stdout) as { action: string }[];
  t.strictSame(manual.map((e) => e.action), ['reset', 'set']);
  t.equal((await piston(['set', '1002', 'ringing'], ENV)).code, 2, 'a state that is not early|confirmed|terminated');
  t.equal((await piston(['reset'], ENV)).code, 2, 'no extension');
  t.equal((await piston(['reset', '1002', '--device', 'x'], ENV)).code, 2, 'both an extension and a device');
  t.equal((await piston(['frobnicate'], ENV)).code, 2, 'unknown command');
  t.equal((await piston(['list', '--nope'], ENV)).code, 2, 'unknown option');
});

t.test('exit codes: 3 not found, 4 auth, 1 other errors, 5 unreachable', async (t) => {
  const missingDevice = await piston(['set', '--device', 'f'.repeat(32), 'early'], ENV);
  t.equal(missingDevice.code, 3, 'a device that does not exist');
  t.equal((await piston(['list'], { ...ENV, PISTON_ACCOUNT: 'e'.repeat(32) })).code, 3, 'an account that does not exist');
  const noToken = await piston(['list'], { PISTON_ACCOUNT: ACCOUNT });
  t.equal(noToken.code, 4);
  t.match(noToken.stderr, /piston login/);
  t.equal((await piston(['list'], { ...ENV, PISTON_TOKEN: 'x'.repeat(40) })).code, 4, 'a wrong token');
  t.equal((await piston(['show', 'bad ext'], ENV)).code, 1, 'a 400 is an error');
  const port = await freePort();
  const down = await piston(['list', '--url', `http://127.0.0.1:${port}`], ENV);
  t.equal(down.code, 5);
  t.match(down.stderr, /cannot reach/);
});

t.test('watch --json: NDJSON, the snapshot then the change; --count ends it', async (t) => {
  let changed = false;
  const watching = piston(['watch', '1003', '--json', '--count', '1'], ENV, (out) => {
    if (!changed && out.includes('"event":"snapshot"')) {
      changed = true;
      void piston(['set', '1003', 'early'], ENV);
    }
  });
  const run = await watching;
  t.equal(run.code, 0);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.equal(lines[0].event, 'snapshot');
  const lamp = lines.find((l) => l.event === 'lamp');
  t.match(lamp.data.extensions, [{ extension: '1003', state: 'early', manual: 'early' }]);
});
