import t from 'tap';
import { md5Hex } from '../../src/accounts/secrets.js';
import { apiHarness, MASTER_KEY, MASTER_REALM, stable, type ApiHarness } from './helpers/api-harness.js';

const HOUR = 60 * 60 * 1000;

async function userLogin(h: ApiHarness, token: string, username: string, password: string): Promise<string> {
  await h.request('PUT', `/v2/accounts/${h.masterId}/users`, {
    token,
    body: { data: { first_name: 'U', last_name: 'U', username, password } },
  });
  const res = await h.request('PUT', '/v2/user_auth', {
    body: { data: { credentials: md5Hex(`${username.toLowerCase()}:${password}`), account_name: 'master' } },
  });
  if (res.status !== 201) throw new Error(res.text);
  return res.json.auth_token as string;
}

t.test('PUT /v2/api_auth: 201, a new token, data {account_id, account_name, owner_id}', async (t) => {
  const h = await apiHarness(t);
  const res = await h.request('PUT', '/v2/api_auth', { body: { data: { api_key: MASTER_KEY } } });
  t.equal(res.status, 201);
  t.type(res.json.auth_token, 'string');
  t.ok(res.json.auth_token.length >= 32);
  t.strictSame(stable(res.json, { token: true }), {
    auth_token: '<token>',
    data: { account_id: h.masterId, account_name: 'master', owner_id: null },
    status: 'success',
  });
  t.not(res.json.auth_token, MASTER_KEY, 'the key is not the token');
});

t.test('api_auth accepts the key in upper case hex, as given by automation', async (t) => {
  const h = await apiHarness(t);
  const res = await h.request('PUT', '/v2/api_auth', { body: { data: { api_key: MASTER_KEY.toUpperCase() } } });
  t.equal(res.status, 201);
});

t.test('api_auth with an unknown or malformed key: 401; without api_key: 400', async (t) => {
  const h = await apiHarness(t);
  for (const api_key of ['c'.repeat(64), 'short', '']) {
    const res = await h.request('PUT', '/v2/api_auth', { body: { data: { api_key } } });
    t.equal(res.status, 401, api_key);
    t.strictSame(stable(res.json), {
      auth_token: '',
      data: { message: 'invalid credentials' },
      error: '401',
      message: 'invalid_credentials',
      status: 'error',
    });
  }
  const missing = await h.request('PUT', '/v2/api_auth', { body: { data: {} } });
  t.equal(missing.status, 400);
  t.strictSame(missing.json.data, { api_key: { required: { message: 'Field is required but missing', target: 'required' } } });
});

t.test('PUT /v2/user_auth with md5(lower(username):password) and account_name or account_realm: 201', async (t) => {
  const h = await apiHarness(t);
  const master = await h.masterToken();
  const created = await h.request('PUT', `/v2/accounts/${h.masterId}/users`, {
    token: master,
    body: { data: { first_name: 'Ann', last_name: 'Lee', username: 'Ann.Lee', password: 's3cret' } },
  });
  const creds = md5Hex('ann.lee:s3cret');
  for (const account of [{ account_name: 'master' }, { account_realm: MASTER_REALM.toUpperCase() }]) {
    const res = await h.request('PUT', '/v2/user_auth', { body: { data: { credentials: creds, ...account } } });
    t.equal(res.status, 201, JSON.stringify(account));
    t.strictSame(stable(res.json, { token: true }), {
      auth_token: '<token>',
      data: { account_id: h.masterId, account_name: 'master', owner_id: created.json.data.id },
      status: 'success',
    });
  }
});

t.test('user_auth with a wrong password, unknown account or malformed credentials: 401', async (t) => {
  const h = await apiHarness(t);
  const master = await h.masterToken();
  await h.request('PUT', `/v2/accounts/${h.masterId}/users`, {
    token: master,
    body: { data: { first_name: 'A', last_name: 'B', username: 'ab', password: 'right' } },
  });
  const bodies = [
    { credentials: md5Hex('ab:wrong'), account_name: 'master' },
    { credentials: md5Hex('ab:right'), account_name: 'nobody' },
    { credentials: md5Hex('ab:right'), account_realm: 'nowhere.example' },
    { credentials: 'not-md5', account_name: 'master' },
  ];
  for (const data of bodies) {
    const res = await h.request('PUT', '/v2/user_auth', { body: { data } });
    t.equal(res.status, 401, JSON.stringify(data));
    t.equal(res.json.message, 'invalid_credentials');
  }
  const noAccount = await h.request('PUT', '/v2/user_auth', { body: { data: { credentials: md5Hex('ab:right') } } });
  t.equal(noAccount.status, 400);
  t.strictSame(Object.keys(noAccount.json.data), ['account_name']);
});

t.test('tokens expire after an hour without use; each use restarts the hour (api-contract.md)', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const path = `/v2/accounts/${h.masterId}`;
  h.clock.advance(HOUR - 1);
  t.equal((await h.request('GET', path, { token })).status, 200, 'used just before the hour');
  h.clock.advance(HOUR - 1);
  t.equal((await h.request('GET', path, { token })).status, 200, 'the use restarted the hour');
  h.clock.advance(HOUR);
  const res = await h.request('GET', path, { token });
  t.equal(res.status, 401, 'an hour idle');
  h.clock.advance(-HOUR);
  t.equal((await h.request('GET', path, { token })).status, 401, 'an expired token is gone, not just late');
});

t.test('DELETE /v2/token_auth revokes the token at once', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const other = await h.masterToken();
  const res = await h.request('DELETE', '/v2/token_auth', { token });
  t.equal(res.status, 200);
  t.strictSame(stable(res.json, { token: true }), { auth_token: '<token>', data: {}, status: 'success' });
  t.equal((await h.request('GET', `/v2/accounts/${h.masterId}`, { token })).status, 401);
  t.equal((await h.request('DELETE', '/v2/token_auth', { token })).status, 401, 'twice: the token is unknown');
  t.equal((await h.request('GET', `/v2/accounts/${h.masterId}`, { token: other })).status, 200, 'other tokens stay');
});

t.test('Authorization: Bearer works like X-Auth-Token', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const res = await h.request('GET', `/v2/accounts/${h.masterId}`, { headers: { Authorization: `Bearer ${token}` } });
  t.equal(res.status, 200);
  t.equal(res.json.auth_token, token);
  const bad = await h.request('GET', `/v2/accounts/${h.masterId}`, { headers: { Authorization: `Basic ${token}` } });
  t.equal(bad.status, 401, 'only the Bearer scheme');
});

t.test('tokens are stored only as SHA-256; keys and passwords are never stored, returned or logged', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const userToken = await userLogin(h, token, 'Zed', 'pa55word-zed');
  const dev = await h.request('PUT', `/v2/accounts/${h.masterId}/devices`, {
    token,
    body: { data: { name: 'd', sip: { username: '1001', password: 'sip-pa55' } } },
  });
  const everything = JSON.stringify([
    h.store.accounts.loadAll(),
    h.store.users.findByAccount(h.masterId),
    h.store.devices.findByAccount(h.masterId),
    h.store.apiKeys.findByAccount(h.masterId),
    h.logs,
    stable(dev.json, { token: true }), // auth_token echoes the caller's own token by design
    stable((await h.request('GET', `/v2/accounts/${h.masterId}/users`, { token })).json, { token: true }),
  ]);
  for (const secret of [token, userToken, MASTER_KEY, 'pa55word-zed', 'sip-pa55', md5Hex('zed:pa55word-zed')]) {
    t.notOk(everything.includes(secret), `${secret.slice(0, 6)}… appears nowhere`);
  }
  t.ok(h.store.authTokens.get((await import('../../src/accounts/secrets.js')).sha256Hex(token)), 'found by its hash');
});

t.test('a parent account sees its descendants; a child never sees its parent or siblings (403)', async (t) => {
  const h = await apiHarness(t);
  const master = await h.masterToken();
  const child = (await h.request('PUT', '/v2/accounts', { token: master, body: { data: { name: 'child', realm: 'child.example' } } })).json.data;
  const sibling = (await h.request('PUT', '/v2/accounts', { token: master, body: { data: { name: 'sib', realm: 'sib.example' } } })).json.data;
  await h.request('PUT', `/v2/accounts/${child.id}/users`, {
    token: master,
    body: { data: { first_name: 'C', last_name: 'C', username: 'c', password: 'c' } },
  });
  const childToken = (await h.request('PUT', '/v2/user_auth', { body: { data: { credentials: md5Hex('c:c'), account_realm: 'child.example' } } })).json
    .auth_token as string;
  const refused = await h.request('PUT', '/v2/accounts', { token: childToken, body: { data: { name: 'gc', realm: 'gc.example' } } });
  t.equal(refused.status, 403, 'a tenant cannot create accounts (issue 19 item 6)');
  const grandchild = await h.request('PUT', `/v2/accounts/${child.id}`, { token: master, body: { data: { name: 'gc', realm: 'gc.example' } } });
  t.equal(grandchild.status, 201, 'the master creates it under the child');
  t.equal(grandchild.json.data.parent_id, child.id);
  t.equal((await h.request('GET', `/v2/accounts/${grandchild.json.data.id}`, { token: master })).status, 200, 'grandparent sees it');
  t.equal((await h.request('GET', `/v2/accounts/${grandchild.json.data.id}`, { token: childToken })).status, 200);
  t.equal((await h.request('GET', `/v2/accounts/${h.masterId}`, { token: childToken })).status, 403, 'not the parent');
  t.equal((await h.request('GET', `/v2/accounts/${sibling.id}`, { token: childToken })).status, 403, 'not a sibling');
  const list = await h.request('GET', '/v2/accounts', { token: childToken });
  t.strictSame(list.json.data.map((a: { name: string }) => a.name), ['child', 'gc']);
});

t.test('deleting an account ends its tokens', async (t) => {
  const h = await apiHarness(t);
  const master = await h.masterToken();
  const child = (await h.request('PUT', '/v2/accounts', { token: master, body: { data: { name: 'x', realm: 'x.example' } } })).json.data;
  await h.request('PUT', `/v2/accounts/${child.id}/users`, {
    token: master,
    body: { data: { first_name: 'X', last_name: 'X', username: 'x', password: 'x' } },
  });
  const tok = (await h.request('PUT', '/v2/user_auth', { body: { data: { credentials: md5Hex('x:x'), account_name: 'x' } } })).json.auth_token;
  t.equal((await h.request('DELETE', `/v2/accounts/${child.id}`, { token: master })).status, 200);
  t.equal((await h.request('GET', '/v2/accounts', { token: tok })).status, 401);
});
