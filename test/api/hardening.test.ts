import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import t from 'tap';
import Koa from 'koa';
import { md5Hex, SecretHasher } from '../../src/accounts/secrets.js';
import { errorEnvelopes } from '../../src/api/envelope-schemas.js';
import { startApi } from '../../src/api/start-api.js';
import { loadConfig } from '../../src/config/config.js';
import { apiHarness, MASTER_KEY, type ApiHarness } from './helpers/api-harness.js';

// Issue 19 item 6 and security.md §5 (admin API hardening), with the cases P1 and P2 of security.md §6.

/** A request from a chosen loopback source address (fetch cannot pick one). */
function from(h: ApiHarness, source: string, method: string, path: string, body?: unknown): Promise<{ status: number; headers: http.IncomingHttpHeaders; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: h.port, method, path, localAddress: source, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const apiAuth = (key: string) => ({ data: { api_key: key } });
const WRONG = 'b'.repeat(64);

t.test('P1: the 5th failed api_auth from one address within 300 s gets 429 + Retry-After; another address still gets its token', async (t) => {
  const h = await apiHarness(t);
  for (let i = 1; i <= 4; i++) t.equal((await from(h, '127.0.0.2', 'PUT', '/v2/api_auth', apiAuth(WRONG))).status, 401, `failure ${i}: 401`);
  h.clock.advance(10_000);
  const fifth = await from(h, '127.0.0.2', 'PUT', '/v2/api_auth', apiAuth(WRONG));
  t.equal(fifth.status, 429, 'the 5th failure is answered 429');
  t.equal(fifth.headers['retry-after'], '290', 'until the first failure leaves the 300 s window');
  t.match(fifth.json, { status: 'error', error: '429', message: 'too_many_requests', data: { message: /retry in 290 s/ } });
  t.ok(errorEnvelopes[429]!.schema.safeParse(fifth.json).success, 'the envelope the OpenAPI document declares for 429');
  t.match(h.logs.filter((r) => /refused after repeated failures/.test(String(r.msg))), [{ level: 'warn', obj: { ip: '127.0.0.2', retryAfterS: 290 } }], 'logged once, with the address');
  const right = await from(h, '127.0.0.2', 'PUT', '/v2/api_auth', apiAuth(MASTER_KEY));
  t.equal(right.status, 429, 'even the right key is not tried from a locked address');
  t.equal(right.json.auth_token, '', 'no token handed out');
  const other = await from(h, '127.0.0.3', 'PUT', '/v2/api_auth', apiAuth(MASTER_KEY));
  t.equal(other.status, 201, 'another address is not locked out');
  t.match(other.json.auth_token, /\S{20,}/);
  h.clock.advance(289_000);
  t.equal((await from(h, '127.0.0.2', 'PUT', '/v2/api_auth', apiAuth(MASTER_KEY))).headers['retry-after'], '1', 'still locked 1 s before');
  h.clock.advance(1000);
  t.equal((await from(h, '127.0.0.2', 'PUT', '/v2/api_auth', apiAuth(MASTER_KEY))).status, 201, 'the window has freed: the right key works');
  t.equal((await from(h, '127.0.0.2', 'PUT', '/v2/api_auth', apiAuth(WRONG))).status, 401, 'only the 5th failure is still in the window: 401 again');
  for (let i = 0; i < 2; i++) await from(h, '127.0.0.2', 'PUT', '/v2/api_auth', apiAuth(WRONG));
  t.equal((await from(h, '127.0.0.2', 'PUT', '/v2/api_auth', apiAuth(WRONG))).status, 429, 'the next 5 within 300 s lock it again');
});

t.test('P1: user_auth failures count against the same address, and a malformed body is not a failed login', async (t) => {
  const h = await apiHarness(t);
  const userAuth = { data: { credentials: md5Hex('nobody:nothing'), account_realm: 'master.example.com' } };
  for (let i = 0; i < 3; i++) t.equal((await from(h, '127.0.0.4', 'PUT', '/v2/user_auth', userAuth)).status, 401);
  t.equal((await from(h, '127.0.0.4', 'PUT', '/v2/user_auth', { data: {} })).status, 400, 'validation error: not counted');
  t.equal((await from(h, '127.0.0.4', 'PUT', '/v2/api_auth', apiAuth(WRONG))).status, 401, '4th failure (api_auth)');
  const locked = await from(h, '127.0.0.4', 'PUT', '/v2/user_auth', userAuth);
  t.equal(locked.status, 429);
  t.equal(locked.headers['retry-after'], '300');
});

t.test('user_auth costs one password hash per request, whether the account name matches none, one or 40 accounts', async (t) => {
  const h = await apiHarness(t);
  const master = await h.masterToken();
  for (let i = 0; i < 40; i++) {
    const acc = await h.request('PUT', '/v2/accounts', { token: master, body: { data: { name: 'shop', realm: `shop${i}.example` } } });
    await h.request('PUT', `/v2/accounts/${acc.json.data.id}/users`, {
      token: master,
      body: { data: { first_name: 'U', last_name: String(i), username: `u${i}`, password: `pw${i}` } },
    });
  }
  const original = SecretHasher.prototype.credentialsHash;
  let hashes = 0;
  SecretHasher.prototype.credentialsHash = function (this: SecretHasher, ...args: Parameters<typeof original>) {
    hashes++;
    return original.apply(this, args);
  };
  t.teardown(() => {
    SecretHasher.prototype.credentialsHash = original;
  });
  const attempt = async (credentials: string, account_name: string): Promise<number> => {
    hashes = 0;
    const res = await h.request('PUT', '/v2/user_auth', { body: { data: { credentials, account_name } } });
    t.equal(hashes, 1, `one hash for ${account_name} (${res.status})`);
    return res.status;
  };
  t.equal(await attempt(md5Hex('u7:wrong'), 'shop'), 401, 'a wrong password over 40 matching accounts');
  t.equal(await attempt(md5Hex('u7:wrong'), 'no such account'), 401, 'no matching account: the same work');
  t.equal(await attempt(md5Hex('u39:pw39'), 'shop'), 201, 'the right user among 40 accounts');
});

t.test('only the master account creates accounts or claims a realm: a tenant gets 403 and nothing changes', async (t) => {
  const h = await apiHarness(t);
  const master = await h.masterToken();
  h.clock.advance(1000); // the first account (oldest) serves unclaimed domains: keep the tenant younger
  const child = (await h.request('PUT', '/v2/accounts', { token: master, body: { data: { name: 'tenant', realm: 'tenant.example' } } })).json.data;
  await h.request('PUT', `/v2/accounts/${child.id}/users`, {
    token: master,
    body: { data: { first_name: 'T', last_name: 'T', username: 't', password: 't' } },
  });
  const tenant = (await h.request('PUT', '/v2/user_auth', { body: { data: { credentials: md5Hex('t:t'), account_realm: 'tenant.example' } } })).json
    .auth_token as string;
  const create = await h.request('PUT', '/v2/accounts', { token: tenant, body: { data: { name: 'sub', realm: 'sub.example' } } });
  t.equal(create.status, 403);
  t.match(create.json, { error: '403', message: 'forbidden', data: { message: 'forbidden' } });
  t.equal((await h.request('PUT', `/v2/accounts/${child.id}`, { token: tenant, body: { data: { name: 'sub', realm: 'sub.example' } } })).status, 403,
    'nor under its own account');
  t.equal(h.store.accounts.count(), 2, 'no account made');
  t.equal(h.services.resolver.resolve('unclaimed.example')?.accountId, h.masterId, 'an unclaimed realm is served by the master');
  const claim = await h.request('POST', `/v2/accounts/${child.id}`, { token: tenant, body: { data: { name: 'tenant', realm: 'unclaimed.example' } } });
  t.equal(claim.status, 403, 'a tenant cannot claim an unclaimed realm');
  t.equal(h.services.resolver.resolve('unclaimed.example')?.accountId, h.masterId, 'the domain stays with the master');
  t.equal(h.store.accounts.get(child.id)?.realm, 'tenant.example');
  t.equal((await h.request('POST', `/v2/accounts/${child.id}`, { token: tenant, body: { data: { name: 'taken', realm: 'master.example.com' } } })).status, 400,
    "another account's realm stays a 400 (unique)");
  const rename = await h.request('POST', `/v2/accounts/${child.id}`, { token: tenant, body: { data: { name: 'Tenant Ltd', realm: 'TENANT.example' } } });
  t.equal(rename.status, 200, 'a tenant may rename itself while keeping its realm');
  const moved = await h.request('POST', `/v2/accounts/${child.id}`, { token: master, body: { data: { name: 'Tenant Ltd', realm: 'unclaimed.example' } } });
  t.equal(moved.status, 200, 'the master gives out realms');
  t.equal(h.services.resolver.resolve('unclaimed.example')?.accountId, child.id);
});

t.test('P2: the admin API binds 127.0.0.1 unless PISTON_API_HOST says otherwise; TLS needs both files', async (t) => {
  t.equal(loadConfig({}).api.host, '127.0.0.1');
  t.equal(loadConfig({}).api.tls, undefined);
  t.throws(() => loadConfig({ PISTON_API_TLS_CERT: '/x.pem' }), /PISTON_API_TLS_CERT and PISTON_API_TLS_KEY go together/);
  t.strictSame(loadConfig({ PISTON_API_TLS_CERT: 'c.pem', PISTON_API_TLS_KEY: 'k.pem' }).api.tls, { certFile: 'c.pem', keyFile: 'k.pem' });
  t.strictSame(loadConfig({ PISTON_SIP_TRUSTED_PEERS: ' 10.1.2.3/8, ::1 ;transport=TCP,192.0.2.1' }).accounts.bootstrapTrustedPeers, [
    { cidr: '10.0.0.0/8' },
    { cidr: '::1/128', transport: 'tcp' },
    { cidr: '192.0.2.1/32' },
  ]);
  t.throws(() => loadConfig({ PISTON_SIP_TRUSTED_PEERS: '10.0.0.0/8,pbx.example' }), /PISTON_SIP_TRUSTED_PEERS.*"pbx\.example" is not an IP address or CIDR block/);
  t.throws(() => loadConfig({ PISTON_SIP_TRUSTED_PEERS: '10.0.0.1;transport=sctp' }), /only transport=udp\|tcp\|tls\|ws\|wss/);
});

t.test('an internal error is answered 500 with the envelope only: no stack trace, no file path, no cause', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  h.services.accounts.listVisible = () => {
    const err = new Error("ENOENT: no such file or directory, open '/var/lib/piston/secret.key'");
    (err as NodeJS.ErrnoException).code = 'ENOENT';
    throw err;
  };
  const res = await h.request('GET', '/v2/accounts', { token });
  t.equal(res.status, 500);
  t.strictSame(res.json.data, { message: 'internal error' });
  t.equal(res.json.message, 'internal_error');
  for (const leak of ['/var/lib', 'ENOENT', 'secret.key', '    at ', '.ts:', '.js:', 'node_modules']) t.notOk(res.text.includes(leak), `no ${leak}`);
  t.ok(h.logs.some((r) => r.msg === 'admin API request failed'), 'the cause goes to the log instead');
  // A TypeError deep in a route, and a malformed JSON body: neither shows where the code lives.
  h.services.trustedPeers.list = () => (undefined as unknown as { sort(): never }).sort();
  const typeError = await h.request('GET', `/v2/accounts/${h.masterId}/trusted_peers`, { token });
  t.equal(typeError.status, 500);
  t.notOk(/\/work\/|src\/|at \w/.test(typeError.text), 'no path in a TypeError answer');
  const badJson = await h.request('PUT', '/v2/accounts', { token, body: '{"data":' });
  t.equal(badJson.status, 400);
  t.notOk(/\/work\/|node_modules|\.js:\d/.test(badJson.text), 'no path in a JSON parse error');
});

function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

/** GET over HTTPS trusting any certificate; answers the status and the certificate's CN. */
function httpsGet(port: number): Promise<{ status: number; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/', rejectUnauthorized: false, agent: false }, (res) => {
      const cn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cn }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('HTTPS on the API port with a certificate and key; SIGHUP reload takes a new pair and keeps the old one when broken', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'piston-api-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = selfSigned(dir, 'first');
  const second = selfSigned(dir, 'second');
  const certFile = join(dir, 'api.crt');
  const keyFile = join(dir, 'api.key');
  copyFileSync(first.cert, certFile);
  copyFileSync(first.key, keyFile);
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = 'ok';
  });
  const api = await startApi(app, { host: '127.0.0.1', port: 0, tls: { certFile, keyFile } });
  t.teardown(() => api.close());
  t.equal(api.secure, true);
  t.strictSame(await httpsGet(api.port), { status: 200, cn: 'first' });
  copyFileSync(second.cert, certFile);
  copyFileSync(second.key, keyFile);
  t.strictSame(api.reloadTls(), { reloaded: true });
  t.strictSame(await httpsGet(api.port), { status: 200, cn: 'second' }, 'new connections get the new certificate');
  writeFileSync(certFile, 'not a certificate');
  const broken = api.reloadTls();
  t.equal(broken.reloaded, false);
  t.match(broken.error, /PISTON_API_TLS_CERT/);
  t.strictSame(await httpsGet(api.port), { status: 200, cn: 'second' }, 'the old context stays in use');
  copyFileSync(second.cert, certFile);
  copyFileSync(first.key, keyFile);
  t.equal(api.reloadTls().reloaded, false, 'a key that does not belong to the certificate is refused too');
  t.strictSame(await httpsGet(api.port), { status: 200, cn: 'second' });
  // Plain HTTP on the HTTPS port gets no answer and does not stop the server.
  const plain = await fetch(`http://127.0.0.1:${api.port}/`).then((r) => r.status, () => 'refused');
  t.not(plain, 200);
  t.strictSame(await httpsGet(api.port), { status: 200, cn: 'second' });
  await t.rejects(startApi(app, { host: '127.0.0.1', port: 0, tls: { certFile: join(dir, 'missing.crt'), keyFile } }), /PISTON_API_TLS_CERT: cannot read .*missing\.crt \(ENOENT\)/,
    'a missing file stops the start with one line naming the variable');
});
