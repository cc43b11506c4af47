import t from 'tap';
import { clusterApi as clusterApiOf, clusterSub as sub } from './helpers/cluster-api.js';
import { directoryEntryOf } from '../../src/cluster/directory/directory-record.js';
import { schemaErrors } from '../support/json-schema-check.js';
import { MASTER_REALM, type ApiHarness } from './helpers/api-harness.js';

// Issue 22 item 3: in cluster mode `GET …/presence` on any node lists the whole cluster, `stalker` naming the node that
// holds each dialog; when the directory does not answer, the list holds this node's subscriptions and the envelope says
// `timeout: true` (api-contract.md, "In cluster mode"; Kazoo's flag for a partial answer).

const clusterApi = (t: { teardown(fn: () => unknown): void }) => clusterApiOf(t, { peerDomains: ['192.0.2.1'] });

async function list(h: ApiHarness, query = ''): Promise<any> {
  const res = await h.request('GET', `/v2/accounts/${h.masterId}/presence${query}`, { token: await h.masterToken() });
  if (res.status !== 200) throw new Error(`list: ${res.status} ${res.text}`);
  return res.json;
}

t.test("the list on one node shows another node's subscriptions with stalker = that node", async (t) => {
  const { api, clock, peer } = await clusterApi(t);
  api.notifier.subs = [sub('n1', 'local-call', { resource: '1001' })];
  const remote = sub('n2', 'remote-call', { resource: '1002', version: 9, lastNotify: { cseq: 12, reply: 200, body: 'not mirrored' } });
  await peer.mirrorSubscription(directoryEntryOf(remote, 'n2', clock.now()));
  const body = await list(api);
  t.equal(body.timeout, undefined, 'a whole answer has no timeout flag');
  t.equal(body.data.subscriptions['1001'].dialog['local-call'].stalker, 'n1');
  t.same(body.data.subscriptions['1002'].dialog['remote-call'], {
    expires: 3600,
    from: '1002@pbx.example.com',
    notify: { body: '<dialog-info entity="1002"/>', reply: 200, sequence: 12 },
    stalker: 'n2',
    timestamp: body.data.subscriptions['1002'].dialog['remote-call'].timestamp,
    version: 9,
  });
});

t.test('the directory unreachable: this node only, with timeout: true, also on a page; the document describes the flag', async (t) => {
  const { api, clock, peer, ctl } = await clusterApi(t);
  api.notifier.subs = [sub('n1', 'local-call', { resource: '1001' })];
  await peer.mirrorSubscription(directoryEntryOf(sub('n2', 'remote-call', { resource: '1002' }), 'n2', clock.now()));
  ctl.fault = 'down';
  let body = await list(api);
  t.equal(body.timeout, true);
  t.same(Object.keys(body.data.subscriptions), ['1001']);
  body = await list(api, '?page_size=5');
  t.equal(body.timeout, true);
  t.equal(body.page_size, 1);
  const doc = (await api.request('GET', '/v2/openapi.json')).json;
  const schema = doc.paths['/v2/accounts/{accountId}/presence'].get.responses['200'].content['application/json'].schema;
  t.strictSame(schemaErrors(schema, body, doc), [], "the partial answer conforms to the document's schema");
  ctl.fault = 'none';
  body = await list(api);
  t.equal(body.timeout, undefined, 'whole again once the directory answers');
  t.same(Object.keys(body.data.subscriptions).sort(), ['1001', '1002']);
});

t.test('a reset on one node also commands the domains where only another node\'s phones watch the extension (issue 22 item 3)', async (t) => {
  const { api, clock, peer, ctl } = await clusterApi(t);
  // 192.0.2.1 is no account's realm: the master account (the oldest) serves it.
  await peer.mirrorSubscription(directoryEntryOf(sub('n2', 'remote-ip', { resource: '1001', domain: '192.0.2.1' }), 'n2', clock.now()));
  const token = await api.masterToken();
  const res = await api.request('POST', `/v2/accounts/${api.masterId}/presence/1001`, { token, body: { data: {} } });
  t.equal(res.status, 200);
  t.same(api.presentity.calls.map((c) => c.resource).sort(), [`1001@${MASTER_REALM}`, '1001@192.0.2.1'].sort());
  api.presentity.calls.length = 0;
  ctl.fault = 'down';
  const again = await api.request('POST', `/v2/accounts/${api.masterId}/presence/1001`, { token, body: { data: {} } });
  t.equal(again.status, 200, 'the directory down: the command still goes out');
  t.same(api.presentity.calls.map((c) => c.resource), [`1001@${MASTER_REALM}`], 'at the realm (shared with every node)');
});
