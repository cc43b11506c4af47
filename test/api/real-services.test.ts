import t from 'tap';
import { createAccountServices } from '../../src/accounts/account-services.js';
import { bootstrap } from '../../src/accounts/bootstrap.js';
import type { PresenceControl } from '../../src/api/api-deps.js';
import { createApiApp } from '../../src/api/create-api-app.js';
import { startApi } from '../../src/api/start-api.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { bodyText, DOMAIN, NotifierHarness } from '../subscriptions/helpers/notifier-harness.js';

// The admin API over the real PresentityService and Notifier (a loop network instead of sockets): the acceptance
// story of issue 4 in-process. The lead's end-to-end test does the same over real sockets with SIPp.

t.test('list shows a live subscription; set confirmed NOTIFYs a confirmed dialog; reset NOTIFYs idle and keeps it', async (t) => {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const boot = bootstrap(store, { clock, realm: DOMAIN, apiKey: 'd'.repeat(64) });
  const services = createAccountServices({ store, clock, defaultAccountForUnknownDomains: false, scryptCost: 1024 });
  const sip = new NotifierHarness({ store, clock, accounts: services.resolver });
  t.teardown(() => sip.dispose());
  const app = createApiApp({
    services,
    presentity: sip.presentity as unknown as PresenceControl,
    notifier: sip.notifier,
    clock,
    logger: silentLogger,
    health: { sip: () => true, store: () => true },
  });
  const api = await startApi(app, { host: '127.0.0.1', port: 0 });
  t.teardown(() => api.close());
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`http://127.0.0.1:${api.port}${path}`, {
      method,
      headers: token ? { 'X-Auth-Token': token } : {},
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const token = (await call('PUT', '/v2/api_auth', { data: { api_key: 'd'.repeat(64) } })).json.auth_token as string;
  const acc = boot.accountId;
  const dev = (await call('PUT', `/v2/accounts/${acc}/devices`, { data: { name: 'desk', sip: { username: 'Bob', password: 'p' }, presence_id: '1001' } }, token)).json.data;

  const dialog = await sip.subscribe({ user: '1001', fromUser: '2002' });
  t.equal(dialog.response.status, 200);
  await sip.tick();
  const first = sip.notifies.length;
  t.ok(first >= 1, 'the initial NOTIFY went out');

  const list = await call('GET', `/v2/accounts/${acc}/presence`, undefined, token);
  const rec = list.json.data.subscriptions['1001'].dialog[dialog.callId];
  t.match(rec, { from: `2002@${DOMAIN}`, stalker: 'piston@test', notify: { reply: 200, sequence: sip.notifies[0]!.cseq.seq } });
  t.equal(rec.version, sip.record(dialog.callId)!.version, 'version from the live record');
  t.equal(rec.notify.body, bodyText(sip.notifies[first - 1]!));

  const set = await call('POST', `/v2/accounts/${acc}/devices/${dev.id}/presence`, { data: { action: 'set', state: 'confirmed' } }, token);
  t.equal(set.json.data, 'command sent');
  await sip.tick();
  t.ok(sip.notifies.length > first, 'set sent a NOTIFY');
  t.match(bodyText(sip.notifies.at(-1)!), /<state>confirmed<\/state>/);

  const described = await call('GET', `/v2/accounts/${acc}/presence/1001`, undefined, token);
  t.equal(described.json.data.manual_state, 'confirmed');
  t.strictSame(Object.keys(described.json.data.watchers.dialog), [dialog.callId]);

  const before = sip.notifies.length;
  const reset = await call('POST', `/v2/accounts/${acc}/presence/1001`, { data: { action: 'reset' } }, token);
  t.equal(reset.json.data, 'reset command sent for extension 1001');
  await sip.tick();
  t.ok(sip.notifies.length > before, 'reset sent a NOTIFY');
  t.notMatch(bodyText(sip.notifies.at(-1)!), /confirmed/);
  const after = await call('GET', `/v2/accounts/${acc}/presence`, undefined, token);
  t.ok(after.json.data.subscriptions['1001'].dialog[dialog.callId], 'the subscription stays');
});
