import t from 'tap';
import { computeHa1 } from '../../src/lib/digest-hash.js';
import { devicesWithoutDigest } from '../../src/security/index.js';
import { apiHarness, MASTER_REALM } from '../api/helpers/api-harness.js';

/**
 * HA1 storage through the admin API (security.md §2.4): made when a device's SIP password is set, per algorithm over
 * the account's realm; the password never stored or returned; `sip.digest_ready` false for a device from before and
 * after a realm change, until a new password re-keys it; an account's opt-in to SHA digests, strongest first.
 */

t.test('a device created with a password gets HA1s for its account realm and says digest_ready; the password is nowhere', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const base = `/v2/accounts/${h.masterId}/devices`;
  const res = await h.request('PUT', base, { token, body: { data: { name: 'desk', sip: { username: 'Alice', password: 's3cret-pw' } } } });
  t.equal(res.status, 201);
  t.equal(res.json.data.sip.digest_ready, true);
  t.notOk(JSON.stringify(res.json).includes('s3cret-pw'));
  const rec = h.store.devices.get(res.json.data.id)!;
  t.same(rec.sipDigest, {
    realm: MASTER_REALM,
    ha1Md5: computeHa1('MD5', 'Alice', MASTER_REALM, 's3cret-pw'),
    ha1bMd5: computeHa1('MD5', `Alice@${MASTER_REALM}`, MASTER_REALM, 's3cret-pw'),
    ha1Sha256: computeHa1('SHA-256', 'Alice', MASTER_REALM, 's3cret-pw'),
    ha1Sha512_256: computeHa1('SHA-512-256', 'Alice', MASTER_REALM, 's3cret-pw'),
  });
  t.notOk(JSON.stringify(rec).includes('s3cret-pw'), 'the password is not stored');
  t.same(devicesWithoutDigest(h.store), []);
});

t.test('a realm change leaves the devices digest_ready: false (named by the start-up check) until a new password re-keys them', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const base = `/v2/accounts/${h.masterId}/devices`;
  const id = (await h.request('PUT', base, { token, body: { data: { name: 'desk', sip: { username: '1001', password: 'pw' } } } })).json.data.id;
  const moved = await h.request('POST', `/v2/accounts/${h.masterId}`, { token, body: { data: { name: 'master', realm: 'new.example' } } });
  t.equal(moved.status, 200);
  t.equal((await h.request('GET', `${base}/${id}`, { token })).json.data.sip.digest_ready, false);
  t.same(devicesWithoutDigest(h.store).map((d) => [d.deviceId, d.username, d.realm]), [[id, '1001', 'new.example']]);
  const rekeyed = await h.request('POST', `${base}/${id}`, { token, body: { data: { name: 'desk', sip: { username: '1001', password: 'pw2' } } } });
  t.equal(rekeyed.json.data.sip.digest_ready, true);
  t.equal(h.store.devices.get(id)!.sipDigest!.realm, 'new.example');
  t.same(devicesWithoutDigest(h.store), []);
});

t.test('a device stored before digest secrets existed is digest_ready: false and listed', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const base = `/v2/accounts/${h.masterId}/devices`;
  const id = (await h.request('PUT', base, { token, body: { data: { name: 'old', sip: { username: '1002', password: 'pw' } } } })).json.data.id;
  const { sipDigest: _gone, ...old } = h.store.devices.get(id)!;
  h.store.devices.put(old);
  t.equal((await h.request('GET', `${base}/${id}`, { token })).json.data.sip.digest_ready, false);
  t.equal(devicesWithoutDigest(h.store).length, 1);
});

t.test('accounts opt in to SHA digests: digest_algorithms kept strongest first, dropped by a POST without it, validated', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const made = await h.request('PUT', '/v2/accounts', { token, body: { data: { name: 't', realm: 't.example', digest_algorithms: ['MD5', 'SHA-256'] } } });
  t.equal(made.status, 201);
  t.same(made.json.data.digest_algorithms, ['SHA-256', 'MD5'], 'strongest first');
  const id = made.json.data.id;
  t.same(h.store.accounts.get(id)!.digestAlgorithms, ['SHA-256', 'MD5']);
  const plain = await h.request('POST', `/v2/accounts/${id}`, { token, body: { data: { name: 't', realm: 't.example' } } });
  t.equal(plain.json.data.digest_algorithms, undefined, 'POST replaces the document: back to MD5 only');
  for (const bad of [['MD4'], [], ['MD5', 'MD5'], 'MD5']) {
    const r = await h.request('POST', `/v2/accounts/${id}`, { token, body: { data: { name: 't', realm: 't.example', digest_algorithms: bad } } });
    t.equal(r.status, 400, JSON.stringify(bad));
  }
});
