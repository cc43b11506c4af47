import t from 'tap';
import { md5Hex } from '../../src/accounts/secrets.js';
import { apiHarness, stable } from './helpers/api-harness.js';

// Issue 19 item 3 (security.md §3.3): trusted peers per account through the admin API, in the envelope and error style
// of the other resources (api-contract.md), kept in the in-memory index the SIP side asks per request.

const FP = 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89';
const FP_SHOWN = FP.toUpperCase();

t.test('trusted peers: PUT creates (201), GET lists and reads, POST replaces, DELETE removes; the index follows', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const base = `/v2/accounts/${h.masterId}/trusted_peers`;
  const index = h.services.trustedPeers.index;
  t.strictSame(index.match({ address: '192.0.2.10', transport: 'udp' }), [], 'nobody is trusted by default');

  const pbx = await h.request('PUT', base, { token, body: { data: { cidr: '192.0.2.10', name: 'Asterisk', extra: 1 } } });
  t.equal(pbx.status, 201);
  const pbxId = pbx.json.data.id as string;
  t.match(pbxId, /^[0-9a-f]{32}$/);
  t.strictSame(stable(pbx.json, { token: true }), {
    auth_token: '<token>',
    data: { id: pbxId, cidr: '192.0.2.10/32', name: 'Asterisk' },
    status: 'success',
  }, 'a single address is shown as a /32; unknown fields dropped; unset fields left out');
  t.strictSame(index.match({ address: '192.0.2.10', transport: 'udp' }), [{ id: pbxId, accountId: h.masterId }], 'trusted at once');

  h.clock.advance(1000);
  const proxy = await h.request('PUT', base, {
    token,
    body: { data: { cidr: '2001:DB8:0:0::1/48', transport: 'tls', fingerprint: FP, name: 'edge proxy' } },
  });
  t.equal(proxy.status, 201);
  t.strictSame(proxy.json.data, { id: proxy.json.data.id, cidr: '2001:db8::/48', transport: 'tls', fingerprint: FP_SHOWN, name: 'edge proxy' });
  t.strictSame(index.match({ address: '2001:db8::99', transport: 'tls', fingerprint: FP }).map((m) => m.id), [proxy.json.data.id]);
  t.strictSame(index.match({ address: '2001:db8::99', transport: 'tcp', fingerprint: FP }), [], 'wrong transport');

  const list = await h.request('GET', base, { token });
  t.equal(list.status, 200);
  t.strictSame(list.json.data.map((p: { id: string }) => p.id), [pbxId, proxy.json.data.id], 'oldest first');
  t.strictSame((await h.request('GET', `${base}/${pbxId}`, { token })).json.data, pbx.json.data);

  const moved = await h.request('POST', `${base}/${pbxId}`, { token, body: { data: { cidr: '198.51.100.0/24', transport: 'udp' } } });
  t.equal(moved.status, 200);
  t.strictSame(moved.json.data, { id: pbxId, cidr: '198.51.100.0/24', transport: 'udp' }, 'POST replaces the whole document (name gone)');
  t.strictSame(index.match({ address: '192.0.2.10', transport: 'udp' }), [], 'the old address is no longer trusted');
  t.equal(index.match({ address: '198.51.100.7', transport: 'udp' }).length, 1);

  const gone = await h.request('DELETE', `${base}/${pbxId}`, { token });
  t.equal(gone.status, 200);
  t.strictSame(gone.json.data, moved.json.data);
  t.equal((await h.request('GET', `${base}/${pbxId}`, { token })).status, 404);
  t.strictSame(index.match({ address: '198.51.100.7', transport: 'udp' }), [], 'a deleted peer is challenged again');
  t.equal(h.store.trustedPeers.findByAccount(h.masterId).length, 1, 'stored');
});

t.test('trusted peers: a bad CIDR, transport or fingerprint is a 400 validation error naming the field', async (t) => {
  const h = await apiHarness(t);
  const token = await h.masterToken();
  const base = `/v2/accounts/${h.masterId}/trusted_peers`;
  const put = (data: unknown) => h.request('PUT', base, { token, body: { data } });
  const bad = await put({ cidr: '10.0.0.0/33' });
  t.equal(bad.status, 400);
  t.strictSame(stable(bad.json, { token: true }), {
    auth_token: '<token>',
    data: {
      cidr: {
        invalid: {
          message: 'Value must be an IPv4 or IPv6 address or CIDR block (192.0.2.10, 10.0.0.0/8, 2001:db8::/32)',
          target: 'invalid',
        },
      },
    },
    error: '400',
    message: 'validation error',
    status: 'error',
  });
  for (const cidr of ['pbx.example.com', '300.1.2.3', '::g/64', '10.0.0.0/8/8', '']) {
    t.equal((await put({ cidr })).status, 400, `cidr ${JSON.stringify(cidr)}`);
  }
  t.strictSame(Object.keys((await put({})).json.data), ['cidr'], 'cidr is required');
  t.strictSame(Object.keys((await put({ cidr: '10.0.0.1', transport: 'sctp' })).json.data.transport), ['enum']);
  t.strictSame(Object.keys((await put({ cidr: '10.0.0.1', fingerprint: 'ab:cd' })).json.data.fingerprint), ['pattern']);
  t.equal((await put({ cidr: '10.0.0.1', fingerprint: 'AB'.repeat(32) })).status, 201, 'a fingerprint without colons');
  const dup = await put({ cidr: '10.0.0.1/32' });
  t.equal(dup.status, 201, 'same block without the fingerprint is another peer');
  const again = await put({ cidr: '10.0.0.1' });
  t.equal(again.status, 400);
  t.ok(again.json.data.cidr.unique, 'the same block, transport and fingerprint twice is refused');
  t.equal(h.store.trustedPeers.findByAccount(h.masterId).length, 2, 'nothing stored by the refused requests');
});

t.test('trusted peers: scoped like the other resources (401, 403 for another tenant, 404 for an unknown peer)', async (t) => {
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
  t.equal((await h.request('GET', `/v2/accounts/${child.id}/trusted_peers`)).status, 401);
  const own = await h.request('PUT', `/v2/accounts/${child.id}/trusted_peers`, { token: childToken, body: { data: { cidr: '203.0.113.0/24' } } });
  t.equal(own.status, 201, 'a tenant manages its own peers');
  t.strictSame(h.services.trustedPeers.index.match({ address: '203.0.113.5', transport: 'udp' }), [{ id: own.json.data.id, accountId: child.id }],
    'trusted for its own account only');
  t.equal((await h.request('GET', `/v2/accounts/${sibling.id}/trusted_peers`, { token: childToken })).status, 403);
  t.equal((await h.request('PUT', `/v2/accounts/${h.masterId}/trusted_peers`, { token: childToken, body: { data: { cidr: '0.0.0.0/0' } } })).status, 403,
    "a tenant cannot trust anyone for its parent's domains");
  t.equal((await h.request('GET', `/v2/accounts/${child.id}/trusted_peers`, { token: master })).status, 200, 'the parent sees them');
  t.equal((await h.request('GET', `/v2/accounts/${sibling.id}/trusted_peers/${own.json.data.id}`, { token: master })).status, 404,
    'a peer of another account is unknown under this one');
  t.equal((await h.request('DELETE', `/v2/accounts/${child.id}`, { token: master })).status, 200);
  t.strictSame(h.services.trustedPeers.index.match({ address: '203.0.113.5', transport: 'udp' }), [], "a deleted account's peers go with it");
  t.equal(h.store.trustedPeers.loadAll().length, 0);
});
