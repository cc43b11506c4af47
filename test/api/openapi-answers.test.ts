import { createHash } from 'node:crypto';
import t from 'tap';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { createAccountServices } from '../../src/accounts/account-services.js';
import { bootstrap } from '../../src/accounts/bootstrap.js';
import type { PresenceControl } from '../../src/api/api-deps.js';
import { buildRouters, createApiApp } from '../../src/api/create-api-app.js';
import { createApiMetrics } from '../../src/api/metrics.js';
import { openApiPath } from '../../src/api/openapi.js';
import { routeAnswers } from '../../src/api/route-answers.js';
import type { RouteSpec } from '../../src/api/route-spec.js';
import { startApi } from '../../src/api/start-api.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import type { PresentityService } from '../../src/presentity/index.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { dialogPublish } from '../presentity/helpers/harness.js';
import { schemaErrors } from '../support/json-schema-check.js';
import { buildPublish, FakeIncoming } from '../support/sip-builders.js';
import { DOMAIN, NotifierHarness } from '../subscriptions/helpers/notifier-harness.js';

// Issue 17 item 8: the OpenAPI document describes what every route really answers. The real admin API (real account
// services over a memory store, the real PresentityService and Notifier with a SIP phone on a loop network) is driven
// through every route, and each answer is held to the schema the document gives for its path, method and status
// (with a JSON Schema checker of our own) and to the zod schema the route declares (route-answers.ts).

const KEY = 'e'.repeat(64);
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

interface Observed {
  method: string;
  /** Path as requested, without the query. */
  path: string;
  query: string;
  status: number;
  mediaType: string;
  body: unknown;
}

interface Driven {
  doc: any;
  specs: RouteSpec[];
  observed: Observed[];
}

/** Runs the whole story once: every route, success and the error statuses a client meets. */
async function driveEveryRoute(t: { teardown(fn: () => unknown): void }): Promise<Driven> {
  const store = new MemoryStore();
  const clock = new ManualClock();
  const boot = bootstrap(store, { clock, realm: DOMAIN, apiKey: KEY });
  const services = createAccountServices({ store, clock, defaultAccountForUnknownDomains: true, scryptCost: 1024 });
  const sip = new NotifierHarness({ store, clock, accounts: services.resolver });
  t.teardown(() => sip.dispose());
  const health = { sip: true, store: true };
  const deps = {
    services,
    presentity: sip.presentity as unknown as PresenceControl,
    notifier: sip.notifier,
    clock,
    logger: silentLogger,
    metrics: createApiMetrics({ registry: new Registry(), subscriptionsByEvent: () => ({}) }),
    health: { sip: () => health.sip, store: () => health.store },
  };
  const api = await startApi(createApiApp(deps), { host: '127.0.0.1', port: 0 });
  t.teardown(() => api.close());
  const { specs } = buildRouters(deps);

  const observed: Observed[] = [];
  const call = async (method: string, url: string, opts: { body?: unknown; token?: string } = {}): Promise<any> => {
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const res = await fetch(`http://127.0.0.1:${api.port}${url}`, {
      method,
      headers: opts.token ? { 'X-Auth-Token': opts.token } : {},
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const parsed: unknown = mediaType === 'application/json' ? JSON.parse(text) : text;
    const [path, query = ''] = url.split('?') as [string, string?];
    observed.push({ method: method.toLowerCase(), path, query, status: res.status, mediaType, body: parsed });
    return { status: res.status, json: parsed as any };
  };
  const expectStatus = (res: { status: number; json: unknown }, status: number, what: string): any => {
    if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  };

  // Operations.
  expectStatus(await call('GET', '/healthz'), 200, 'health');
  health.store = false;
  expectStatus(await call('GET', '/healthz'), 503, 'health, store down');
  health.store = true;
  expectStatus(await call('GET', '/metrics'), 200, 'metrics');
  const doc = expectStatus(await call('GET', '/v2/openapi.json'), 200, 'openapi');

  // Authentication and accounts.
  expectStatus(await call('PUT', '/v2/api_auth', { body: { data: { api_key: 'f'.repeat(64) } } }), 401, 'unknown key');
  const token = expectStatus(await call('PUT', '/v2/api_auth', { body: { data: { api_key: KEY } } }), 201, 'api_auth').auth_token as string;
  const master = boot.accountId;
  expectStatus(await call('GET', '/v2/accounts'), 401, 'no token');
  expectStatus(await call('PUT', '/v2/accounts', { token, body: '{"data":' }), 400, 'malformed JSON');
  const sub = expectStatus(
    await call('PUT', '/v2/accounts', { token, body: { data: { name: 'branch', realm: 'branch.example.com' } } }),
    201,
    'create account',
  ).data.id as string;
  expectStatus(await call('GET', '/v2/accounts', { token }), 200, 'list accounts');
  expectStatus(await call('GET', `/v2/accounts/${sub}`, { token }), 200, 'read account');
  expectStatus(
    await call('POST', `/v2/accounts/${sub}`, { token, body: { data: { name: 'branch office', realm: 'branch.example.com' } } }),
    200,
    'replace account',
  );

  // Users and devices of the master account.
  const ann = expectStatus(
    await call('PUT', `/v2/accounts/${master}/users`, {
      token,
      body: { data: { first_name: 'Ann', last_name: 'Lee', username: 'ann', password: 'secret', presence_id: '1001' } },
    }),
    201,
    'create user',
  ).data.id as string;
  const nobody = expectStatus(
    await call('PUT', `/v2/accounts/${master}/users`, { token, body: { data: { first_name: 'No', last_name: 'Devices' } } }),
    201,
    'create user without presence',
  ).data.id as string;
  const desk = expectStatus(
    await call('PUT', `/v2/accounts/${master}/devices`, {
      token,
      body: { data: { name: 'desk', sip: { username: 'bob', password: 'pw' }, presence_id: '1001', owner_id: ann } },
    }),
    201,
    'create device',
  ).data.id as string;
  const spare = expectStatus(
    await call('PUT', `/v2/accounts/${master}/devices`, {
      token,
      body: { data: { name: 'spare', sip: { username: 'carol', password: 'pw' } } },
    }),
    201,
    'create bare device',
  ).data.id as string;
  const huge = { data: { name: 'x'.repeat(70 * 1024), sip: { username: 'big', password: 'pw' } } };
  expectStatus(await call('PUT', `/v2/accounts/${master}/devices`, { token, body: huge }), 413, 'oversized body');
  expectStatus(await call('PUT', `/v2/accounts/${master}/devices`, { token, body: { data: { name: 'no sip' } } }), 400, 'invalid device');
  expectStatus(await call('GET', `/v2/accounts/${master}/devices`, { token }), 200, 'list devices');
  expectStatus(await call('GET', `/v2/accounts/${master}/devices/${desk}`, { token }), 200, 'read device');
  expectStatus(await call('GET', `/v2/accounts/${master}/devices/${'0'.repeat(32)}`, { token }), 404, 'unknown device');
  expectStatus(
    await call('POST', `/v2/accounts/${master}/devices/${spare}`, {
      token,
      body: { data: { name: 'spare two', sip: { username: 'carol' }, presence_id: '1002' } },
    }),
    200,
    'replace device',
  );
  // Trusted peers of the master account (issue 19 item 3).
  const peers = `/v2/accounts/${master}/trusted_peers`;
  const pbx = expectStatus(await call('PUT', peers, { token, body: { data: { cidr: '192.0.2.10', name: 'pbx' } } }), 201, 'add trusted peer')
    .data.id as string;
  expectStatus(
    await call('PUT', peers, { token, body: { data: { cidr: '2001:db8::/32', transport: 'tls', fingerprint: 'AB'.repeat(32) } } }),
    201,
    'add trusted peer with every field',
  );
  expectStatus(await call('PUT', peers, { token, body: { data: { cidr: '10.0.0.0/33' } } }), 400, 'bad CIDR');
  expectStatus(await call('GET', peers, { token }), 200, 'list trusted peers');
  expectStatus(await call('GET', `${peers}/${pbx}`, { token }), 200, 'read trusted peer');
  expectStatus(await call('POST', `${peers}/${pbx}`, { token, body: { data: { cidr: '192.0.2.0/24', transport: 'udp' } } }), 200, 'replace trusted peer');
  expectStatus(await call('DELETE', `${peers}/${pbx}`, { token }), 200, 'remove trusted peer');
  expectStatus(await call('GET', `${peers}/${pbx}`, { token }), 404, 'unknown trusted peer');
  expectStatus(await call('GET', `/v2/accounts/${master}/users`, { token }), 200, 'list users');
  expectStatus(await call('GET', `/v2/accounts/${master}/users/${ann}`, { token }), 200, 'read user');
  expectStatus(
    await call('POST', `/v2/accounts/${master}/users/${nobody}`, { token, body: { data: { first_name: 'Still', last_name: 'Nobody' } } }),
    200,
    'replace user',
  );
  expectStatus(
    await call('PUT', '/v2/user_auth', { body: { data: { credentials: md5('ann:secret'), account_realm: DOMAIN } } }),
    201,
    'user_auth',
  );

  // A token of the sub-account: 403 on its parent, and a sub-account of its own to stop the parent's deletion.
  expectStatus(
    await call('PUT', `/v2/accounts/${sub}/users`, {
      token,
      body: { data: { first_name: 'Zed', last_name: 'Branch', username: 'zed', password: 'pw2' } },
    }),
    201,
    'create sub-account user',
  );
  const subToken = expectStatus(
    await call('PUT', '/v2/user_auth', { body: { data: { credentials: md5('zed:pw2'), account_name: 'branch office' } } }),
    201,
    'user_auth in the sub-account',
  ).auth_token as string;
  expectStatus(await call('GET', `/v2/accounts/${master}`, { token: subToken }), 403, 'parent of the token account');
  expectStatus(
    await call('PUT', '/v2/accounts', { token: subToken, body: { data: { name: 'leaf', realm: 'leaf.example.com' } } }),
    403,
    'a tenant creates no account',
  );
  const leaf = expectStatus(
    await call('PUT', `/v2/accounts/${sub}`, { token, body: { data: { name: 'leaf', realm: 'leaf.example.com' } } }),
    201,
    'create sub-sub-account',
  ).data.id as string;
  expectStatus(await call('DELETE', `/v2/accounts/${sub}`, { token }), 400, 'account with sub-accounts');
  expectStatus(await call('DELETE', `/v2/accounts/${leaf}`, { token }), 200, 'delete account');

  // Live presence: SUBSCRIBEs from a phone, a PUBLISH and a mailbox, then the presence routes.
  const dialog = await sip.subscribe({ user: '1001', fromUser: '2002' });
  const pidf = await sip.subscribe({ user: '1001', fromUser: '2003', event: 'presence' });
  const mwi = await sip.subscribe({ user: '1001', fromUser: '2004', event: 'message-summary' });
  for (const d of [dialog, pidf, mwi]) if (d.response.status !== 200) throw new Error(`SUBSCRIBE answered ${d.response.status}`);
  const published = new FakeIncoming(buildPublish(dialogPublish([{ id: 'd1', state: 'confirmed' }])));
  (sip.presentity as unknown as PresentityService).handlePublish(published);
  if (published.last.status !== 200) throw new Error(`PUBLISH answered ${published.last.status}`);
  sip.presentity.setMailbox(`1001@${DOMAIN}`, { newMessages: 2, oldMessages: 1, urgentNew: 1, urgentOld: 0 });
  await sip.tick();
  const list = expectStatus(await call('GET', `/v2/accounts/${master}/presence`, { token }), 200, 'presence list');
  if (!list.data.subscriptions['1001']?.dialog?.[dialog.callId]) {
    throw new Error(`the dialog subscription is not listed: ${JSON.stringify(list)}`);
  }
  expectStatus(await call('GET', `/v2/accounts/${master}/presence?event=dialog`, { token }), 200, 'presence list, one event');
  // Kazoo paging (issue 18): a first page with next_start_key, the last page without, a bad page_size.
  const firstPage = expectStatus(await call('GET', `/v2/accounts/${master}/presence?page_size=1`, { token }), 200, 'first page');
  if (typeof firstPage.next_start_key !== 'string') throw new Error(`no next_start_key: ${JSON.stringify(firstPage)}`);
  const lastPage = expectStatus(
    await call('GET', `/v2/accounts/${master}/presence?page_size=2&start_key=${firstPage.next_start_key}`, { token }),
    200,
    'last page',
  );
  if ('next_start_key' in lastPage || lastPage.page_size !== 2) throw new Error(`not the last page: ${JSON.stringify(lastPage)}`);
  expectStatus(await call('GET', `/v2/accounts/${master}/presence?page_size=0`, { token }), 400, 'bad page_size');
  expectStatus(await call('GET', `/v2/accounts/${master}/presence?event=bogus`, { token }), 400, 'unknown event');
  const described = expectStatus(await call('GET', `/v2/accounts/${master}/presence/1001`, { token }), 200, 'describe');
  if (described.data.publications.length !== 1 || described.data.mailbox === null) {
    throw new Error(`expected a publication and a mailbox: ${JSON.stringify(described)}`);
  }
  expectStatus(await call('GET', `/v2/accounts/${master}/presence/a%20b`, { token }), 400, 'bad extension');
  const command = (path: string, data: Record<string, unknown>) => call('POST', `/v2/accounts/${master}${path}`, { token, body: { data } });
  expectStatus(await command('/presence/1001', { action: 'set', state: 'early' }), 200, 'set');
  expectStatus(await command('/presence/*3101', { action: 'reset' }), 200, 'reset');
  expectStatus(await command(`/devices/${desk}/presence`, { action: 'set', state: 'confirmed' }), 200, 'device set');
  expectStatus(await command(`/devices/${desk}/presence`, { action: 'bogus' }), 400, 'bad action');
  expectStatus(await command(`/users/${ann}/presence`, { action: 'reset' }), 200, 'user reset');
  expectStatus(await command(`/users/${nobody}/presence`, { action: 'reset' }), 200, 'user reset, nothing to send to');
  await sip.tick();

  // Deletions last, then the token itself.
  expectStatus(await call('DELETE', `/v2/accounts/${master}/devices/${spare}`, { token }), 200, 'delete device');
  expectStatus(await call('DELETE', `/v2/accounts/${master}/users/${nobody}`, { token }), 200, 'delete user');
  expectStatus(await call('DELETE', '/v2/token_auth', { token }), 200, 'revoke token');
  return { doc, specs, observed };
}

/** The document's path template a requested path falls under; exactly one must match. */
function templateOf(doc: any, path: string): string {
  const matches = Object.keys(doc.paths).filter((tpl) =>
    new RegExp(`^${tpl.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`).test(path),
  );
  if (matches.length !== 1) throw new Error(`${path} matches ${matches.length} documented paths: ${matches.join(', ')}`);
  return matches[0]!;
}

/** The document's schema with every local `$ref` replaced by what it names, to compare with a standalone conversion. */
function inlineRefs(node: unknown, doc: any): unknown {
  if (Array.isArray(node)) return node.map((n) => inlineRefs(n, doc));
  if (node === null || typeof node !== 'object') return node;
  const { $ref, ...rest } = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) out[k] = inlineRefs(v, doc);
  if (typeof $ref !== 'string') return out;
  const target = $ref.replace(/^#\/components\/schemas\//, '');
  return { ...(inlineRefs(doc.components.schemas[target], doc) as Record<string, unknown>), ...out };
}

t.test('every real answer conforms to the OpenAPI schema for its path, method and status, and to the route zod answer', async (t) => {
  const { doc, specs, observed } = await driveEveryRoute(t);
  t.ok(observed.length >= 45, `${observed.length} answers observed`);
  for (const o of observed) {
    const tpl = templateOf(doc, o.path);
    const what = `${o.method.toUpperCase()} ${o.path}${o.query ? `?${o.query}` : ''} → ${o.status}`;
    const response = doc.paths[tpl]?.[o.method]?.responses?.[String(o.status)];
    if (!t.ok(response, `${what}: the status is documented`)) continue;
    const content = response.content?.[o.mediaType];
    if (!t.ok(content, `${what}: documented as ${o.mediaType}`)) continue;
    t.strictSame(schemaErrors(content.schema, o.body, doc), [], `${what}: conforms to the document's JSON Schema`);
    const spec = specs.find((s) => s.method === o.method && openApiPath(s.path) === tpl)!;
    const answer = routeAnswers(spec).find((a) => a.status === o.status)!;
    const parsed = answer.schema.safeParse(o.body);
    t.ok(parsed.success, `${what}: conforms to the route's zod answer${parsed.success ? '' : `: ${z.prettifyError(parsed.error)}`}`);
  }
});

t.test('every documented success answer, each error envelope and the 503 health answer were met for real', async (t) => {
  const { doc, observed } = await driveEveryRoute(t);
  const seen = new Set(observed.map((o) => `${o.method} ${templateOf(doc, o.path)} ${o.status}`));
  const missing: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(ops)) {
      for (const status of Object.keys(op.responses)) {
        if (Number(status) < 300 && !seen.has(`${method} ${path} ${status}`)) missing.push(`${method} ${path} ${status}`);
      }
    }
  }
  t.strictSame(missing, [], 'no success answer left untried');
  t.ok(seen.has('get /healthz 503'), 'health answered 503');
  const errorStatuses = new Set(observed.filter((o) => o.status >= 400 && o.path !== '/healthz').map((o) => o.status));
  t.strictSame([...errorStatuses].sort((a, b) => a - b), [400, 401, 403, 404, 413], 'each documented error envelope was met');
});

t.test("the document's answer schemas are the JSON Schemas of the routes' zod answers", async (t) => {
  const { doc, specs } = await driveEveryRoute(t);
  let compared = 0;
  for (const spec of specs) {
    const op = doc.paths[openApiPath(spec.path)][spec.method];
    const answers = routeAnswers(spec);
    const statuses = answers.map((a) => a.status).sort((a, b) => a - b);
    t.strictSame(Object.keys(op.responses).map(Number).sort((a, b) => a - b), statuses, `${spec.method} ${spec.path}: statuses`);
    for (const answer of answers) {
      const { $schema: _s, ...standalone } = z.toJSONSchema(answer.schema, { io: 'output' }) as Record<string, unknown>;
      const documented = op.responses[String(answer.status)].content[answer.mediaType].schema;
      t.strictSame(inlineRefs(documented, doc), standalone, `${spec.method} ${spec.path} ${answer.status}`);
      compared++;
    }
  }
  t.ok(compared >= 60, `${compared} answers compared`);
  t.notOk(JSON.stringify(doc).includes('"data":{}'), 'no answer leaves data untyped');
});

t.test('the JSON Schema checker finds what breaks a schema and refuses keywords it does not know', async (t) => {
  const doc = { components: { schemas: { N: { type: 'integer', minimum: 0 } } } };
  const schema = {
    type: 'object',
    properties: { n: { $ref: '#/components/schemas/N' }, s: { anyOf: [{ type: 'string', pattern: '^a' }, { type: 'null' }] } },
    required: ['n', 's'],
    additionalProperties: false,
  };
  t.strictSame(schemaErrors(schema, { n: 1, s: 'ab' }, doc), []);
  t.strictSame(schemaErrors(schema, { n: 1, s: null }, doc), []);
  t.equal(schemaErrors(schema, { n: -1, s: 'ab' }, doc).length, 1, 'minimum through a $ref');
  t.equal(schemaErrors(schema, { n: 1.5, s: 'ab' }, doc).length, 1, 'integer');
  t.equal(schemaErrors(schema, { n: 1, s: 'b' }, doc).length, 1, 'no anyOf branch');
  t.equal(schemaErrors(schema, { n: 1, s: 'a', extra: true }, doc).length, 1, 'undeclared field');
  t.equal(schemaErrors(schema, { s: 'a' }, doc).length, 1, 'missing required');
  t.throws(() => schemaErrors({ type: 'string', dependentRequired: {} }, 'x', doc), /does not know: dependentRequired/);
});
