import t from 'tap';
import { clusterApi as clusterApiOf, clusterSub as sub } from './helpers/cluster-api.js';
import { directoryEntryOf } from '../../src/cluster/directory/directory-record.js';
import { silentLogger } from '../../src/lib/logger.js';
import { schemaErrors } from '../support/json-schema-check.js';
import { apiHarness, MASTER_REALM, type ApiHarness } from './helpers/api-harness.js';
import { operatorDeps } from '../../src/api/operator-deps.js';
import { createPresenceFeed } from '../../src/feed/index.js';
import { PresenceHistory } from '../../src/history/presence-history.js';
import { MemoryHistoryRepository } from '../../src/store/memory/memory-history.js';
import type { ResourceState } from '../../src/events/event-package.js';

// Issue 22: in cluster mode `GET …/presence/{EXTENSION}` on any node shows the resource's watchers on every node, as the
// list does (api-contract.md, "In cluster mode every endpoint answers for the whole cluster"): this node's from its
// live records, the others' from the directory with `stalker` = their node. When the directory does not answer, this
// node's watchers only and `timeout: true` in the envelope (Kazoo's flag for a partial answer).


/** Node n1's API with the operator routes (explain) over an empty history: what matters here is the watchers. */
const clusterApi = (t: { teardown(fn: () => unknown): void }) =>
  clusterApiOf(t, {
    peerDomains: [MASTER_REALM, '192.0.2.1'],
    operator: (clock) => {
      const feed = createPresenceFeed({ logger: silentLogger });
      const idle = { format: 'none' } as ResourceState;
      const history = new PresenceHistory({ feed, clock, logger: silentLogger, repository: new MemoryHistoryRepository(), stateOf: () => idle });
      return operatorDeps({ state: () => idle, manualStateOf: () => null, resources: () => [] }, feed, history);
    },
  });

async function describe(h: ApiHarness, ext: string): Promise<{ status: number; json: any; text: string }> {
  return h.request('GET', `/v2/accounts/${h.masterId}/presence/${ext}`, { token: await h.masterToken() });
}

t.test("one extension's view on one node shows another node's watchers too, stalker = that node", async (t) => {
  const { api, clock, peer } = await clusterApi(t);
  api.notifier.subs = [sub('n1', 'local-call', { resource: '1001' })];
  const remote = sub('n2', 'remote-call', {
    resource: '1001',
    contact: 'sip:2002@192.0.2.7:5060',
    flow: { protocol: 'TCP', localAddress: '', localPort: 0, remoteAddress: '192.0.2.7', remotePort: 5060, connectionId: null },
    version: 4,
    lastNotify: { cseq: 7, reply: 200, body: 'not mirrored' },
  });
  await peer.mirrorSubscription(directoryEntryOf(remote, 'n2', clock.now()));
  // Another resource of the same domain, and the same extension at another domain: not this view's.
  await peer.mirrorSubscription(directoryEntryOf(sub('n2', 'other-ext', { resource: '1002' }), 'n2', clock.now()));
  await peer.mirrorSubscription(directoryEntryOf(sub('n2', 'other-dom', { resource: '1001', domain: '192.0.2.1' }), 'n2', clock.now()));
  const res = await describe(api, '1001');
  t.equal(res.status, 200);
  t.equal(res.json.timeout, undefined, 'a whole answer has no timeout flag');
  t.same(Object.keys(res.json.data.watchers.dialog).sort(), ['local-call', 'remote-call']);
  t.equal(res.json.data.watchers.dialog['local-call'].stalker, 'n1');
  const w = res.json.data.watchers.dialog['remote-call'];
  t.same(
    { stalker: w.stalker, contact: w.contact, transport: w.transport, version: w.version, notify: w.notify },
    { stalker: 'n2', contact: 'sip:2002@192.0.2.7:5060', transport: 'TCP', version: 4, notify: { body: '<dialog-info entity="1001"/>', reply: 200, sequence: 7 } },
  );
  const local = res.json.data.watchers.dialog['local-call'];
  t.ok(w.expires_in > 0 && Math.abs(w.expires_in - local.expires_in) <= 1, 'expires_in from the mirrored expiry (the same as the local watcher made with it)');
  const doc = (await api.request('GET', '/v2/openapi.json')).json;
  const schema = doc.paths['/v2/accounts/{accountId}/presence/{extension}'].get.responses['200'].content['application/json'].schema;
  t.strictSame(schemaErrors(schema, res.json, doc), [], "the answer conforms to the document's schema");
});

t.test("a node whose beat lapsed is not shown; the directory unreachable: this node's watchers and timeout: true", async (t) => {
  const { api, clock, peer, ctl } = await clusterApi(t);
  api.notifier.subs = [sub('n1', 'local-call', { resource: '1001' })];
  await peer.mirrorSubscription(directoryEntryOf(sub('n2', 'remote-call', { resource: '1001' }), 'n2', clock.now()));
  ctl.fault = 'down';
  let res = await describe(api, '1001');
  t.equal(res.status, 200, 'still answered');
  t.equal(res.json.timeout, true, 'flagged partial');
  t.same(Object.keys(res.json.data.watchers.dialog), ['local-call']);
  const doc = (await api.request('GET', '/v2/openapi.json')).json;
  const schema = doc.paths['/v2/accounts/{accountId}/presence/{extension}'].get.responses['200'].content['application/json'].schema;
  t.strictSame(schemaErrors(schema, res.json, doc), [], 'the partial answer conforms to the document too');
  ctl.fault = 'hang';
  res = await describe(api, '1001');
  t.equal(res.json.timeout, true, 'a directory that does not answer within the timeout: partial too');
  ctl.fault = 'none';
  res = await describe(api, '1001');
  t.equal(res.json.timeout, undefined);
  t.same(Object.keys(res.json.data.watchers.dialog).sort(), ['local-call', 'remote-call']);
  await peer.forgetNode('n2');
  res = await describe(api, '1001');
  t.same(Object.keys(res.json.data.watchers.dialog), ['local-call'], "a node no longer alive: its entries are not shown");
});

t.test("explain lists every node's watchers, each with its node; other nodes' without a source; timeout: true when partial", async (t) => {
  const { api, clock, peer, ctl } = await clusterApi(t);
  api.notifier.subs = [sub('n1', 'local-call', { resource: '1001' })];
  await peer.mirrorSubscription(directoryEntryOf(sub('n2', 'remote-call', { resource: '1001' }), 'n2', clock.now()));
  // A domain where only node 2's phone watches 1001 (the master account serves unclaimed domains).
  await peer.mirrorSubscription(directoryEntryOf(sub('n2', 'remote-ip', { resource: '1001', domain: '192.0.2.1' }), 'n2', clock.now()));
  const token = await api.masterToken();
  const explain = () => api.request('GET', `/v2/accounts/${api.masterId}/presence/1001/explain`, { token });
  let res = await explain();
  t.equal(res.status, 200, res.text.slice(0, 300));
  t.equal(res.json.timeout, undefined);
  const byCall = Object.fromEntries((res.json.data.watchers as any[]).map((w) => [w.call_id, w]));
  t.same(Object.keys(byCall).sort(), ['local-call', 'remote-call', 'remote-ip']);
  t.equal(byCall['local-call'].stalker, 'n1');
  t.not(byCall['local-call'].source, '', "this node's watcher shows its source");
  t.same([byCall['remote-call'].stalker, byCall['remote-call'].source], ['n2', ''], "another node's: its node, no source");
  t.equal(byCall['remote-ip'].resource, '1001@192.0.2.1', 'a domain watched only on another node is explained too');
  const doc = (await api.request('GET', '/v2/openapi.json')).json;
  const schema = doc.paths['/v2/accounts/{accountId}/presence/{extension}/explain'].get.responses['200'].content['application/json'].schema;
  t.strictSame(schemaErrors(schema, res.json, doc), [], "the answer conforms to the document's schema");
  ctl.fault = 'down';
  res = await explain();
  t.equal(res.status, 200);
  t.equal(res.json.timeout, true);
  t.same((res.json.data.watchers as any[]).map((w) => w.call_id), ['local-call']);
  t.strictSame(schemaErrors(schema, res.json, doc), []);
  const bad = await api.request('GET', `/v2/accounts/${api.masterId}/presence/${encodeURIComponent('a b')}/explain`, { token });
  t.equal(bad.status, 400, 'a bad extension is still 400');
});

t.test('without a cluster the view is what it was: the same bytes as a single node answers', async (t) => {
  const single = await apiHarness(t);
  single.notifier.subs = [sub('piston@h', 'local-call', { resource: '1001' })];
  const res = await describe(single, '1001');
  t.equal(res.status, 200);
  t.notOk('timeout' in res.json);
  t.same(Object.keys(res.json), ['auth_token', 'data', 'request_id', 'revision', 'status'], 'the envelope keys, in order');
  t.same(Object.keys(res.json.data.watchers.dialog), ['local-call']);
});
