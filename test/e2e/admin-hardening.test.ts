import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import t from 'tap';
import { removeDir, startServerProcess } from '../support/server-process.js';

/**
 * Issue 19 items 3 and 6 on the built server: the admin API binds 127.0.0.1 by default (security.md §6 P2),
 * PISTON_SIP_TRUSTED_PEERS seeds the master account's peers on the first start only, and with a certificate the API
 * speaks HTTPS and takes a renewed certificate on SIGHUP without a restart.
 */

const API_KEY = 'c3'.repeat(32);

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

function httpsCall(port: number, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; cn: string; json: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1', port, method, path, rejectUnauthorized: false, agent: false,
        headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) },
      },
      (res) => {
        const cn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, cn, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

t.test('P2 and first-start trusted peers: the API listens on 127.0.0.1 only, and PISTON_SIP_TRUSTED_PEERS is read on the first start only', async (t) => {
  const env = { PISTON_API_HOST: '', PISTON_BOOTSTRAP_API_KEY: API_KEY, PISTON_SIP_TRUSTED_PEERS: '127.0.0.2,10.0.0.0/8;transport=tcp' };
  const first = await startServerProcess({ env });
  t.teardown(() => removeDir(first.dataDir));
  t.ok(await accepts('127.0.0.1', first.apiPort), 'reachable on 127.0.0.1');
  t.notOk(await accepts('127.0.0.2', first.apiPort), 'not on another address of this machine (default PISTON_API_HOST)');
  const ready = await first.waitForLog(/"msg":"ready"/);
  t.equal((ready.api as { host: string }).host, '127.0.0.1');
  const api = `http://127.0.0.1:${first.apiPort}`;
  const login = async (): Promise<{ token: string; account: string }> => {
    const res = await fetch(`${api}/v2/api_auth`, { method: 'PUT', body: JSON.stringify({ data: { api_key: API_KEY } }) });
    const body = (await res.json()) as { auth_token: string; data: { account_id: string } };
    return { token: body.auth_token, account: body.data.account_id };
  };
  const peersOf = async (): Promise<unknown> => {
    const { token, account } = await login();
    const res = await fetch(`${api}/v2/accounts/${account}/trusted_peers`, { headers: { 'x-auth-token': token } });
    // Written in one millisecond, so listed by id: compare in a fixed order.
    return ((await res.json()) as { data: { cidr: string; transport?: string }[] }).data
      .map((p) => ({ cidr: p.cidr, transport: p.transport ?? null }))
      .sort((a, b) => (a.cidr < b.cidr ? -1 : 1));
  };
  const seeded = [{ cidr: '10.0.0.0/8', transport: 'tcp' }, { cidr: '127.0.0.2/32', transport: null }];
  t.strictSame(await peersOf(), seeded, 'the master account trusts the seeded peers');
  t.equal(await first.stop(), 0);

  const again = await startServerProcess({ env: { ...env, PISTON_SIP_TRUSTED_PEERS: '192.0.2.0/24' }, dataDir: first.dataDir, apiPort: first.apiPort });
  t.teardown(() => again.stop());
  t.strictSame(await peersOf(), seeded, 'a later start does not touch the list: the API owns it');
});

t.test('HTTPS with PISTON_API_TLS_CERT/_KEY; SIGHUP takes a renewed certificate, a broken one leaves the old in use', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'piston-e2e-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = selfSigned(dir, 'first');
  const second = selfSigned(dir, 'second');
  const certFile = join(dir, 'api.crt');
  const keyFile = join(dir, 'api.key');
  copyFileSync(first.cert, certFile);
  copyFileSync(first.key, keyFile);
  const server = await startServerProcess({ env: { PISTON_BOOTSTRAP_API_KEY: API_KEY, PISTON_API_TLS_CERT: certFile, PISTON_API_TLS_KEY: keyFile } });
  t.teardown(async () => {
    await server.stop();
    removeDir(server.dataDir);
  });
  const auth = await httpsCall(server.apiPort, 'PUT', '/v2/api_auth', { data: { api_key: API_KEY } });
  t.equal(auth.status, 201, 'api_auth over HTTPS');
  t.equal(auth.cn, 'first');
  t.match(server.lines.join('\n'), `https://127.0.0.1:${server.apiPort}/v2/api_auth`, 'the first-start command says https');

  copyFileSync(second.cert, certFile);
  copyFileSync(second.key, keyFile);
  process.kill(server.pid, 'SIGHUP');
  await server.waitForLog(/admin API certificate reloaded/);
  const renewed = await httpsCall(server.apiPort, 'GET', '/healthz');
  t.equal(renewed.cn, 'second', 'renewed without a restart');

  copyFileSync(first.key, keyFile); // a key that is not the certificate's
  process.kill(server.pid, 'SIGHUP');
  const refused = await server.waitForLog(/admin API certificate not reloaded/);
  t.notMatch(String(refused.reason), /\n\s+at /, 'one line, no stack');
  const still = await httpsCall(server.apiPort, 'GET', '/healthz');
  t.equal(still.status, 200);
  t.equal(still.cn, 'second', 'the old certificate stays in use');
});
