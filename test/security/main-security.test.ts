import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config/config.js';
import { ManualClock } from '../../src/lib/clock.js';
import { recordingLogger } from '../../src/lib/logger.js';
import { sipAuthPolicy } from '../../src/main-security.js';
import { cidrPeerLookup, loadNonceSecret, NONCE_SECRET_FILE } from '../../src/security/index.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';

/** How main.ts wires authentication: PISTON_SIP_AUTH, the nonce secret kept with the data, the start-up list. */

function dataDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'piston-sec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('PISTON_SIP_AUTH: digest by default, off on request, anything else refused; trusted peers and nonce lifetime validated', async (t) => {
  t.same(loadConfig({}).sipAuth, { mode: 'digest', nonceLifetimeS: 300, trustedPeers: [] });
  t.equal(loadConfig({ PISTON_SIP_AUTH: 'off' }).sipAuth.mode, 'off');
  t.throws(() => loadConfig({ PISTON_SIP_AUTH: 'basic' }), /PISTON_SIP_AUTH/);
  t.same(loadConfig({ PISTON_SIP_TRUSTED_PEERS: '10.0.0.5, 192.168.0.0/16,::1' }).sipAuth.trustedPeers, ['10.0.0.5', '192.168.0.0/16', '::1']);
  for (const bad of ['10.0.0.0/33', 'pbx.example.com', '10.0.0.1/8/1', '::1/129']) {
    t.throws(() => loadConfig({ PISTON_SIP_TRUSTED_PEERS: bad }), /PISTON_SIP_TRUSTED_PEERS/, bad);
  }
  t.throws(() => loadConfig({ PISTON_SIP_NONCE_LIFETIME_S: '0' }), /PISTON_SIP_NONCE_LIFETIME_S/);
});

t.test('the nonce secret is made on first start (mode 0600) and the same one is read after a restart', async (t) => {
  const dir = dataDir(t);
  const a = loadNonceSecret(dir);
  t.equal(a.length, 32);
  t.equal(statSync(join(dir, NONCE_SECRET_FILE)).mode & 0o777, 0o600);
  t.same(loadNonceSecret(dir), a);
  writeFileSync(join(dir, NONCE_SECRET_FILE), 'not hex\n');
  t.throws(() => loadNonceSecret(dir), /nonce secret/);
});

t.test('with auth off there is no policy, and the log says so; with digest the devices without HA1s are named once', async (t) => {
  const store = new MemoryStore();
  const clock = new ManualClock();
  store.accounts.put({ id: 'a'.repeat(32), name: 'm', realm: 'r.example', parentId: null, createdAt: 1, updatedAt: 1 });
  store.devices.put({
    id: 'd'.repeat(32),
    accountId: 'a'.repeat(32),
    name: 'old',
    sipUsername: '1001',
    sipPasswordHash: 'scrypt$x',
    presenceId: null,
    ownerId: null,
    createdAt: 1,
    updatedAt: 1,
  });
  const off = recordingLogger();
  t.equal(sipAuthPolicy(loadConfig({ PISTON_SIP_AUTH: 'off', PISTON_DATA_DIR: dataDir(t) }), store, clock, off), undefined);
  t.match(off.records.map((r) => r.msg ?? '').join('\n'), /authentication is off/);
  const on = recordingLogger();
  const dir = dataDir(t);
  const policy = sipAuthPolicy(loadConfig({ PISTON_DATA_DIR: dir }), store, clock, on);
  t.ok(policy?.authenticate, 'the three hooks');
  t.ok(readFileSync(join(dir, NONCE_SECRET_FILE), 'utf8').length > 0, 'the secret is kept with the data');
  const named = on.records.filter((r) => /cannot authenticate/.test(r.msg ?? ""));
  t.equal(named.length, 1, 'one line');
  t.match(JSON.stringify(named[0]), /"username":"1001"/);
});

t.test('PISTON_SIP_TRUSTED_PEERS lookup: CIDRs of either family, for the first account only once it exists', async (t) => {
  let first: string | null = null;
  const lookup = cidrPeerLookup(() => first, ['127.0.0.5', '10.1.0.0/16', 'fd00::/8']);
  t.same(lookup({ address: '127.0.0.5', transport: 'udp' }), [], 'no account yet: nobody is trusted');
  first = 'a'.repeat(32);
  t.same(lookup({ address: '127.0.0.5', transport: 'udp' }), [{ id: 'env', accountId: first }]);
  t.same(lookup({ address: '10.1.200.3', transport: 'tcp' }).length, 1);
  t.same(lookup({ address: 'fd12::1', transport: 'tcp' }).length, 1);
  t.same(lookup({ address: '127.0.0.6', transport: 'udp' }), []);
  t.same(lookup({ address: 'not-an-ip', transport: 'udp' }), []);
});
