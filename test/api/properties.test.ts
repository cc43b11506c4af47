import http from 'node:http';
import fc from 'fast-check';
import t from 'tap';
import { apiHarness, type ApiHarness } from './helpers/api-harness.js';

// Bad input never yields a 500 (issue 4, acceptance): random and truncated JSON bodies, wrong types, huge strings,
// unknown fields, path injection in ids and extensions. Raw node:http, so paths reach the server unnormalised.

interface Raw {
  status: number;
  body: string;
}

function raw(h: ApiHarness, method: string, path: string, body: string | undefined, token: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: h.port,
        method,
        path,
        headers: {
          'X-Auth-Token': token,
          'Content-Type': 'application/json',
          // Framed explicitly: Node's client sends unframed bodies for DELETE, which no server can read.
          ...(body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(body)) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A failure must still be the contract's error envelope. */
function assertShape(r: Raw, where: string): void {
  if (r.status >= 500) throw new Error(`${where}: ${r.status} ${r.body}`);
  if (r.status >= 400) {
    const j = JSON.parse(r.body) as Record<string, unknown>;
    if (j.status !== 'error' || j.error !== String(r.status) || typeof j.message !== 'string' || !('data' in j)) {
      throw new Error(`${where}: not an error envelope: ${r.body}`);
    }
  }
}

const validBodies = [
  { data: { action: 'set', state: 'confirmed' } },
  { data: { name: 'n', realm: 'r.example' } },
  { data: { name: 'd', sip: { username: '1001', password: 'p' }, presence_id: '1001', owner_id: 'f'.repeat(32) } },
  { data: { first_name: 'a', last_name: 'b', username: 'u', password: 'p', presence_id: '2001' } },
  { data: { api_key: 'a'.repeat(64) } },
  { data: { credentials: 'a'.repeat(32), account_name: 'master' } },
].map((b) => JSON.stringify(b));

/** Every kind of bad body. */
const bodyArb = fc.oneof(
  fc.json().map(String),
  fc.string({ maxLength: 200 }),
  fc.constantFrom(...validBodies).chain((b) => fc.nat(b.length).map((n) => b.slice(0, n))),
  fc.record({ data: fc.dictionary(fc.constantFrom('name', 'realm', 'sip', 'action', 'state', 'owner_id', 'presence_id', 'first_name', 'username', 'password', 'api_key', 'credentials', 'account_name', '__proto__', 'constructor', 'extra'), fc.anything()) }).map((o) => JSON.stringify(o)),
  fc.constantFrom(...validBodies).map((b) => b.replace(/"[^"]*"(?=[,}])/, `"${'x'.repeat(40000)}"`)),
  fc.constant('{"data":{"__proto__":{"polluted":true}}}'),
  fc.constant('{"data":{"name":"x","realm":"y.example","sip":{"username":["1001"],"password":{"a":1}}}}'),
  fc.constant(undefined),
);

const injections = [
  '..', '%2e%2e', '..%2f..%2fetc%2fpasswd', '%00', 'a%00b', "'%20OR%201=1--", '%E0%A4%A', '%', '%25', '*3101', '%2A3101',
  'f'.repeat(32), 'F'.repeat(32), 'x'.repeat(3000), '%F0%9F%98%80', '%3Cscript%3E', '1001@evil.example', 'a;b', 'a?b',
];

t.test('random and broken requests on every route never yield a 500', async (t) => {
  const h = await apiHarness(t, { bodyLimitBytes: 32 * 1024 });
  const token = await h.masterToken();
  const dev = await h.request('PUT', `/v2/accounts/${h.masterId}/devices`, {
    token,
    body: { data: { name: 'd', sip: { username: '1001', password: 'p' } } },
  });
  const user = await h.request('PUT', `/v2/accounts/${h.masterId}/users`, { token, body: { data: { first_name: 'a', last_name: 'b' } } });
  const idArb = fc.oneof(fc.constantFrom(h.masterId, dev.json.data.id as string, user.json.data.id as string), fc.constantFrom(...injections));
  const templates = [
    (a: string) => `/v2/accounts/${a}`,
    (a: string) => `/v2/accounts/${a}/devices`,
    (a: string, b: string) => `/v2/accounts/${a}/devices/${b}`,
    (a: string, b: string) => `/v2/accounts/${a}/devices/${b}/presence`,
    (a: string) => `/v2/accounts/${a}/users`,
    (a: string, b: string) => `/v2/accounts/${a}/users/${b}`,
    (a: string, b: string) => `/v2/accounts/${a}/users/${b}/presence`,
    (a: string) => `/v2/accounts/${a}/presence`,
    (a: string, b: string) => `/v2/accounts/${a}/presence/${b}`,
    (a: string) => `/v2/accounts/${a}/presence?event=${a}`,
    () => '/v2/accounts',
    () => '/v2/api_auth',
    () => '/v2/user_auth',
    () => '/v2/token_auth',
  ];
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH'),
      fc.nat(templates.length - 1),
      idArb,
      idArb,
      bodyArb,
      async (method, which, a, b, body) => {
        runs++;
        const path = templates[which]!(a, b);
        const r = await raw(h, method, path, method === 'GET' ? undefined : body, token);
        assertShape(r, `${method} ${path} ${String(body).slice(0, 100)}`);
      },
    ),
    { numRuns: 400, seed: 4242 },
  );
  t.equal(runs, 400);
  t.equal(h.logs.filter((l) => l.level === 'error').length, 0, 'nothing was logged as an internal error');
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
});

t.test('wrong types in every field of every body are 400 field errors, never 500', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const dev = await h.request('PUT', `/v2/accounts/${h.masterId}/devices`, {
    token,
    body: { data: { name: 'd', sip: { username: '1001', password: 'p' } } },
  });
  const targets: [string, string][] = [
    ['PUT', '/v2/accounts'],
    ['POST', `/v2/accounts/${h.masterId}`],
    ['PUT', `/v2/accounts/${h.masterId}/devices`],
    ['POST', `/v2/accounts/${h.masterId}/devices/${dev.json.data.id}`],
    ['PUT', `/v2/accounts/${h.masterId}/users`],
    ['POST', `/v2/accounts/${h.masterId}/devices/${dev.json.data.id}/presence`],
    ['PUT', '/v2/api_auth'],
    ['PUT', '/v2/user_auth'],
  ];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...targets), fc.constantFrom(...validBodies), fc.anything(), async ([method, path], body, value) => {
      const parsed = JSON.parse(body) as { data: Record<string, unknown> };
      for (const k of Object.keys(parsed.data)) parsed.data[k] = value;
      const r = await raw(h, method, path, JSON.stringify(parsed), token);
      assertShape(r, `${method} ${path}`);
    }),
    { numRuns: 150, seed: 7 },
  );
  t.pass('no 500');
});

t.test('huge bodies are 413 and huge strings within the limit are field errors', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const tooBig = await raw(h, 'PUT', '/v2/accounts', JSON.stringify({ data: { name: 'x'.repeat(200_000), realm: 'a.example' } }), token);
  t.equal(tooBig.status, 413);
  const long = await raw(h, 'PUT', '/v2/accounts', JSON.stringify({ data: { name: 'x'.repeat(50_000), realm: 'a.example' } }), token);
  t.equal(long.status, 400);
  t.strictSame(Object.keys(JSON.parse(long.body).data), ['name']);
});
