import t from 'tap';
import { apiHarness, stable } from './helpers/api-harness.js';

// Accounts, devices and users (api-contract.md): create/read/update/delete with the field-error shape.

const required = { required: { message: 'Field is required but missing', target: 'required' } };

t.test('accounts: PUT creates (201), GET reads, POST replaces, DELETE deletes', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const created = await h.request('PUT', '/v2/accounts', { token, body: { data: { name: 'Acme', realm: 'PBX.Acme.Example' } } });
  t.equal(created.status, 201);
  const id = created.json.data.id as string;
  t.match(id, /^[0-9a-f]{32}$/, 'ids are 32 lower-case hex');
  t.strictSame(stable(created.json, { token: true }), {
    auth_token: '<token>',
    data: { id, name: 'Acme', parent_id: h.masterId, realm: 'pbx.acme.example' },
    status: 'success',
  });
  t.strictSame((await h.request('GET', `/v2/accounts/${id}`, { token })).json.data, created.json.data);
  const updated = await h.request('POST', `/v2/accounts/${id}`, { token, body: { data: { name: 'Acme 2', realm: 'acme2.example', extra: 1 } } });
  t.equal(updated.status, 200);
  t.strictSame(updated.json.data, { id, name: 'Acme 2', parent_id: h.masterId, realm: 'acme2.example' }, 'unknown fields dropped');
  t.equal(h.services.resolver.resolve('acme2.example')?.accountId, id, 'the SIP side sees the new realm at once');
  const deleted = await h.request('DELETE', `/v2/accounts/${id}`, { token });
  t.equal(deleted.status, 200);
  t.strictSame(deleted.json.data, updated.json.data);
  t.equal((await h.request('GET', `/v2/accounts/${id}`, { token })).status, 404);
  t.equal(h.services.resolver.resolve('acme2.example')?.accountId, h.masterId, 'the realm falls back to the first account');
});

t.test('accounts: realms are unique, case-insensitively', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  await h.request('PUT', '/v2/accounts', { token, body: { data: { name: 'A', realm: 'same.example' } } });
  const res = await h.request('PUT', '/v2/accounts', { token, body: { data: { name: 'B', realm: 'SAME.example' } } });
  t.equal(res.status, 400);
  t.strictSame(stable(res.json, { token: true }), {
    auth_token: '<token>',
    data: { realm: { unique: { message: 'Realm already in use by another account', target: 'unique' } } },
    error: '400',
    message: 'validation error',
    status: 'error',
  });
  const self = await h.request('POST', `/v2/accounts/${h.masterId}`, { token, body: { data: { name: 'm', realm: 'master.example.com' } } });
  t.equal(self.status, 200, 'an account keeps its own realm');
});

t.test('accounts: validation errors name every bad field and rule', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const cases: [unknown, unknown][] = [
    [{}, { data: required }],
    [{ data: [] }, { data: { type: { message: 'Value must be of type object', target: 'object' } } }],
    [{ data: {} }, { name: required, realm: required }],
    [
      { data: { name: '', realm: 'bad realm!' } },
      {
        name: { minLength: { message: 'Value must be at least 1 characters', target: '1' } },
        realm: { pattern: { message: 'Value does not match the expected format', target: expectPattern() } },
      },
    ],
    [{ data: { name: 5, realm: 'ok.example' } }, { name: { type: { message: 'Value must be of type string', target: 'string' } } }],
    [{ data: { name: 'x'.repeat(129), realm: 'ok.example' } }, { name: { maxLength: { message: 'Value must be at most 128 characters', target: '128' } } }],
  ];
  for (const [body, data] of cases) {
    const res = await h.request('PUT', '/v2/accounts', { token, body });
    t.equal(res.status, 400, JSON.stringify(body));
    t.strictSame(res.json.data, data, JSON.stringify(body));
  }
});

function expectPattern(): string {
  return '^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$';
}

t.test('accounts: an account with sub-accounts, or the caller\'s own, is not deleted', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const a = (await h.request('PUT', '/v2/accounts', { token, body: { data: { name: 'A', realm: 'a.example' } } })).json.data;
  const own = await h.request('DELETE', `/v2/accounts/${h.masterId}`, { token });
  t.equal(own.status, 403);
  t.equal(own.json.message, 'forbidden');
  t.equal(h.store.accounts.count(), 2);
  t.ok(a.id);
});

t.test('devices: create, list summaries, read, replace, delete; the password is never returned', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const base = `/v2/accounts/${h.masterId}/devices`;
  const user = (await h.request('PUT', `/v2/accounts/${h.masterId}/users`, { token, body: { data: { first_name: 'O', last_name: 'W' } } })).json.data;
  const created = await h.request('PUT', base, {
    token,
    body: { data: { name: 'Desk', sip: { username: 'Alice', password: 'pw1' }, presence_id: '1001@pbx', owner_id: user.id } },
  });
  t.equal(created.status, 201);
  const id = created.json.data.id;
  t.strictSame(stable(created.json, { token: true }), {
    auth_token: '<token>',
    data: { id, name: 'Desk', owner_id: user.id, presence_id: '1001@pbx', sip: { username: 'Alice', digest_ready: true } },
    status: 'success',
  });
  const list = await h.request('GET', base, { token });
  t.strictSame(list.json.data, [{ id, name: 'Desk', owner_id: user.id, presence_id: '1001@pbx', username: 'Alice' }]);
  t.strictSame((await h.request('GET', `${base}/${id}`, { token })).json.data, created.json.data);
  const hashBefore = h.store.devices.get(id)!.sipPasswordHash;
  const replaced = await h.request('POST', `${base}/${id}`, { token, body: { data: { name: 'Desk 2', sip: { username: 'alice2' } } } });
  t.equal(replaced.status, 200);
  t.strictSame(
    replaced.json.data,
    { id, name: 'Desk 2', sip: { username: 'alice2', digest_ready: false } },
    'POST replaces: unset optional fields go; a new SIP user name without a password leaves no digest secret (the name is hashed in)',
  );
  t.equal(h.store.devices.get(id)!.sipPasswordHash, hashBefore, 'no password in POST keeps the stored one');
  const rekeyed = await h.request('POST', `${base}/${id}`, { token, body: { data: { name: 'Desk 2', sip: { username: 'alice2', password: 'new' } } } });
  t.not(h.store.devices.get(id)!.sipPasswordHash, hashBefore, 'a new password replaces it');
  t.equal(rekeyed.json.data.sip.digest_ready, true, 'and makes the digest secrets again');
  t.notOk(JSON.stringify(rekeyed.json).includes('new'), 'the password is never returned');
  t.notOk(JSON.stringify(h.store.devices.get(id)).includes('"new"'), 'nor stored');
  const deleted = await h.request('DELETE', `${base}/${id}`, { token });
  t.equal(deleted.status, 200);
  t.strictSame((await h.request('GET', base, { token })).json.data, []);
});

t.test('devices: SIP user names are unique within an account, case-insensitively, not across accounts', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const mk = (acc: string, username: string) =>
    h.request('PUT', `/v2/accounts/${acc}/devices`, { token, body: { data: { name: 'd', sip: { username, password: 'p' } } } });
  t.equal((await mk(h.masterId, '1001')).status, 201);
  const dup = await mk(h.masterId, '1001');
  t.equal(dup.status, 400);
  t.strictSame(dup.json.data, { 'sip.username': { unique: { message: 'SIP user name already in use in this account', target: 'unique' } } });
  const other = (await h.request('PUT', '/v2/accounts', { token, body: { data: { name: 'o', realm: 'o.example' } } })).json.data;
  t.equal((await mk(other.id, '1001')).status, 201, 'another account may use it');
  const named = await mk(h.masterId, 'Bob');
  t.equal((await mk(h.masterId, 'BOB')).status, 400);
  const self = await h.request('POST', `/v2/accounts/${h.masterId}/devices/${named.json.data.id}`, {
    token,
    body: { data: { name: 'n', sip: { username: 'bob' } } },
  });
  t.equal(self.status, 200, 'a device keeps its own name');
});

t.test('devices: owner_id must be a user of the same account; required fields and nested field names', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const base = `/v2/accounts/${h.masterId}/devices`;
  const other = (await h.request('PUT', '/v2/accounts', { token, body: { data: { name: 'o', realm: 'o.example' } } })).json.data;
  const foreign = (await h.request('PUT', `/v2/accounts/${other.id}/users`, { token, body: { data: { first_name: 'F', last_name: 'F' } } })).json.data;
  for (const owner_id of [foreign.id, 'e'.repeat(32)]) {
    const res = await h.request('PUT', base, { token, body: { data: { name: 'd', sip: { username: 'x', password: 'p' }, owner_id } } });
    t.equal(res.status, 400);
    t.strictSame(res.json.data, { owner_id: { not_found: { message: 'Owner must be a user of this account', target: 'user' } } });
  }
  const missing = await h.request('PUT', base, { token, body: { data: { sip: {} } } });
  t.strictSame(missing.json.data, { name: required, 'sip.username': required, 'sip.password': required });
  const badOwner = await h.request('PUT', base, { token, body: { data: { name: 'd', sip: { username: 'x', password: 'p' }, owner_id: 'nope' } } });
  t.strictSame(Object.keys(badOwner.json.data), ['owner_id']);
  t.strictSame(Object.keys(badOwner.json.data.owner_id), ['pattern']);
  const badUser = await h.request('PUT', base, { token, body: { data: { name: 'd', sip: { username: 'has space', password: 'p' } } } });
  t.strictSame(Object.keys(badUser.json.data), ['sip.username']);
});

t.test('users: create, list, read, replace, delete; passwords never returned; deleting detaches owned devices', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const base = `/v2/accounts/${h.masterId}/users`;
  const created = await h.request('PUT', base, {
    token,
    body: { data: { first_name: 'Ann', last_name: 'Lee', presence_id: '2001', username: 'ann', password: 'secret' } },
  });
  t.equal(created.status, 201);
  const id = created.json.data.id;
  t.strictSame(stable(created.json, { token: true }), {
    auth_token: '<token>',
    data: { id, first_name: 'Ann', last_name: 'Lee', presence_id: '2001', username: 'ann' },
    status: 'success',
  });
  t.strictSame((await h.request('GET', base, { token })).json.data, [created.json.data]);
  t.strictSame((await h.request('GET', `${base}/${id}`, { token })).json.data, created.json.data);
  const renamed = await h.request('POST', `${base}/${id}`, { token, body: { data: { first_name: 'Anne', last_name: 'Lee', username: 'ann' } } });
  t.equal(renamed.status, 200, 'same username: the password may stay');
  t.strictSame(renamed.json.data, { id, first_name: 'Anne', last_name: 'Lee', username: 'ann' });
  const newName = await h.request('POST', `${base}/${id}`, { token, body: { data: { first_name: 'A', last_name: 'L', username: 'anne' } } });
  t.equal(newName.status, 400, 'a new username needs the password (the credentials hash includes it)');
  t.strictSame(newName.json.data, { password: { required: { message: 'A password is required with a new username', target: 'required' } } });
  const dev = (await h.request('PUT', `/v2/accounts/${h.masterId}/devices`, {
    token,
    body: { data: { name: 'd', sip: { username: '1001', password: 'p' }, owner_id: id } },
  })).json.data;
  t.equal((await h.request('DELETE', `${base}/${id}`, { token })).status, 200);
  t.equal((await h.request('GET', `${base}/${id}`, { token })).status, 404);
  t.strictSame((await h.request('GET', `/v2/accounts/${h.masterId}/devices/${dev.id}`, { token })).json.data, {
    id: dev.id,
    name: 'd',
    sip: { username: '1001', digest_ready: true },
  });
});

t.test('users: usernames are unique within an account; a username needs a password', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const base = `/v2/accounts/${h.masterId}/users`;
  await h.request('PUT', base, { token, body: { data: { first_name: 'A', last_name: 'A', username: 'sam', password: 'x' } } });
  const dup = await h.request('PUT', base, { token, body: { data: { first_name: 'B', last_name: 'B', username: 'SAM', password: 'y' } } });
  t.equal(dup.status, 400);
  t.strictSame(dup.json.data, { username: { unique: { message: 'Username already in use in this account', target: 'unique' } } });
  const noPw = await h.request('PUT', base, { token, body: { data: { first_name: 'C', last_name: 'C', username: 'carl' } } });
  t.equal(noPw.status, 400);
  t.strictSame(Object.keys(noPw.json.data), ['password']);
  const missing = await h.request('PUT', base, { token, body: { data: {} } });
  t.strictSame(missing.json.data, { first_name: required, last_name: required });
});

t.test('deleting a device or user touches no subscription', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const { subscriptionRecord } = await import('../store/helpers/records.js');
  h.store.subscriptions.put(subscriptionRecord({ domain: 'master.example.com' }));
  const dev = (await h.request('PUT', `/v2/accounts/${h.masterId}/devices`, { token, body: { data: { name: 'd', sip: { username: '1001', password: 'p' } } } })).json.data;
  const user = (await h.request('PUT', `/v2/accounts/${h.masterId}/users`, { token, body: { data: { first_name: 'u', last_name: 'u' } } })).json.data;
  await h.request('DELETE', `/v2/accounts/${h.masterId}/devices/${dev.id}`, { token });
  await h.request('DELETE', `/v2/accounts/${h.masterId}/users/${user.id}`, { token });
  t.equal(await h.store.subscriptions.count(), 1);
  t.strictSame(h.presentity.calls, [], 'and sends no presence command');
});
