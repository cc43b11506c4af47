import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createAccountServices } from '../../src/accounts/account-services.js';
import { bootstrap } from '../../src/accounts/bootstrap.js';
import { createApiApp } from '../../src/api/create-api-app.js';
import { startApi } from '../../src/api/start-api.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { FakeNotifier, FakePresentity } from './helpers/fakes.js';

t.test('accounts, devices and tokens survive a restart on the SQLite store; bootstrap runs only once', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'piston-api-'));
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const clock = new ManualClock();
  const start = async () => {
    const store = openSqliteStore({ dataDir, clock });
    const boot = bootstrap(store, { clock });
    const services = createAccountServices({ store, clock, defaultAccountForUnknownDomains: true, scryptCost: 1024 });
    const app = createApiApp({
      services,
      presentity: new FakePresentity(),
      notifier: new FakeNotifier(),
      clock,
      logger: silentLogger,
      health: { sip: () => true, store: () => true },
    });
    const api = await startApi(app, { host: '127.0.0.1', port: 0 });
    const call = async (method: string, p: string, body?: unknown, token?: string) => {
      const res = await fetch(`http://127.0.0.1:${api.port}${p}`, {
        method,
        headers: token ? { 'X-Auth-Token': token } : {},
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, json: (await res.json()) as any };
    };
    return { store, boot, api, call };
  };
  const one = await start();
  t.equal(one.boot.created, true);
  const token = (await one.call('PUT', '/v2/api_auth', { data: { api_key: one.boot.apiKey } })).json.auth_token as string;
  const dev = await one.call('PUT', `/v2/accounts/${one.boot.accountId}/devices`, { data: { name: 'd', sip: { username: '1001', password: 'p' } } }, token);
  t.equal(dev.status, 201);
  await one.api.close();
  one.store.close();

  const two = await start();
  t.teardown(async () => {
    await two.api.close();
    two.store.close();
  });
  t.strictSame(two.boot, { created: false, accountId: one.boot.accountId });
  const read = await two.call('GET', `/v2/accounts/${one.boot.accountId}/devices/${dev.json.data.id}`, undefined, token);
  t.equal(read.status, 200, 'the token and the device are still there');
  t.strictSame(read.json.data, dev.json.data);
});
