import t, { type Test } from 'tap';
import { startRedisProcess } from '../support/redis-process.js';
import type { ServerProcess } from '../support/server-process.js';
import { mapLimit, type SipEndpoint } from '../support/sip-watcher.js';
import {
  startClusterNodes, watchResource, publishRefreshText as publishText, dialogIn as dialog, stateOf, sleep, token,
  CLUSTER_API_KEY as API_KEY, type ClusterNodes,
} from '../support/cluster-nodes.js';
import { apiCaller } from '../support/api-call.js';

/**
 * Cluster mode end to end (cluster.md §9, issue 22): one redis-server and three built nodes on loopback. A watcher's
 * NOTIFYs come only from the node holding its dialog, once per change, whichever node took the PUBLISH; entity-tags
 * work on every node; a publication expires once; with Redis gone a node goes on serving its own phones and, when
 * Redis comes back empty, pushes what it holds so the others converge. The set-up is test/support/cluster-nodes.ts
 * (shared with cluster-failures.test.ts).
 *
 * Delivery limits are generous (the machine is shared): the acceptance asks for a second, the test allows 3 s and
 * reports the measured time.
 */

const DELIVERY_MS = 3000;
/** Quiet time after a change during which no second NOTIFY may arrive. */
const SETTLE_MS = 1500;

let cluster: ClusterNodes;
let nodes: ServerProcess[];

t.before(async () => {
  cluster = await startClusterNodes();
  nodes = cluster.nodes;
});

t.teardown(async () => {
  await cluster?.stop();
});

const endpoint = (node: ServerProcess): Promise<SipEndpoint> => cluster.endpoint(node);

/** A watcher of `resource` on `ep`'s node, after its first NOTIFY; answers the Call-ID. */
const watch = (t: Test, ep: SipEndpoint, resource: string): Promise<string> => watchResource(t, ep, resource, DELIVERY_MS);

t.test('a PUBLISH on node 2 reaches a watcher on node 1 within the delivery limit, one NOTIFY with CSeq +1 (cluster.md §9 test 1)', async (t) => {
  const [n1, n2] = nodes as [ServerProcess, ServerProcess];
  const watcher = await endpoint(n1);
  const publisher = await endpoint(n2);
  const callId = await watch(t, watcher, '7101');
  const first = watcher.transactions(callId)[0]!;
  const sent = Date.now();
  const pub = await publisher.publishDialog({ resource: '7101', dialog: dialog('confirmed') });
  t.equal(pub.response.status, 200, 'PUBLISH on node 2 accepted');
  t.ok(await watcher.waitUntil(() => watcher.transactions(callId).length >= 2, DELIVERY_MS), 'NOTIFY from node 1');
  const second = watcher.transactions(callId)[1]!;
  t.comment(`PUBLISH on n2 -> NOTIFY from n1: ${second.at - sent} ms (load ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`);
  t.equal(stateOf(second.msg), 'confirmed');
  t.equal(second.cseq, first.cseq + 1, 'CSeq +1');
  await sleep(SETTLE_MS);
  t.equal(watcher.transactions(callId).length, 2, 'exactly one NOTIFY for the change');
});

t.test('the list on node 3 shows a watcher held on node 1 (stalker n1), and a reset on node 3 NOTIFYs it (issue 22 acceptance, cluster.md §9 test 10)', async (t) => {
  const [n1, , n3] = nodes as [ServerProcess, ServerProcess, ServerProcess];
  const watcher = await endpoint(n1);
  const callId = await watch(t, watcher, '7201');
  const call = apiCaller(`http://127.0.0.1:${n3.apiPort}`);
  const auth = await call('PUT', '/v2/api_auth', undefined, { api_key: API_KEY });
  t.equal(auth.status, 201, 'a token on node 3');
  const token = auth.body.auth_token as string;
  const accountId = auth.body.data.account_id as string;
  // The mirror writes every 100 ms: allow a few seconds on a shared machine.
  let record: Record<string, unknown> | undefined;
  for (let i = 0; i < 30 && !record; i++) {
    const listed = await call('GET', `/v2/accounts/${accountId}/presence`, token);
    t.equal(listed.status, 200);
    const byCall = (listed.body.data.subscriptions?.['7201']?.dialog ?? {}) as Record<string, Record<string, unknown>>;
    record = Object.values(byCall)[0];
    if (!record) await sleep(200);
  }
  t.ok(record, 'node 3 lists the subscription node 1 holds');
  t.equal(record?.stalker, 'n1', 'stalker names the node holding the dialog');
  const before = watcher.transactions(callId).length;
  const reset = await call('POST', `/v2/accounts/${accountId}/presence/7201`, token, { action: 'reset' });
  t.same([reset.status, reset.body.data], [200, 'reset command sent for extension 7201']);
  t.ok(await watcher.waitUntil(() => watcher.transactions(callId).length > before, DELIVERY_MS), 'node 1 sent its watcher a NOTIFY for the reset on node 3');
});

t.test('one watcher per node, a PUBLISH on node 3: exactly one NOTIFY each (cluster.md §9 test 2)', async (t) => {
  const eps = await Promise.all(nodes.map((n) => endpoint(n)));
  const calls: string[] = [];
  for (const ep of eps) calls.push(await watch(t, ep, '7102'));
  const pub = await eps[2]!.publishDialog({ resource: '7102', dialog: dialog('early') });
  t.equal(pub.response.status, 200);
  for (const [i, ep] of eps.entries()) t.ok(await ep.waitUntil(() => ep.transactions(calls[i]!).length >= 2, DELIVERY_MS), `node ${i + 1}'s watcher told`);
  await sleep(SETTLE_MS);
  t.same(
    eps.map((ep, i) => ep.transactions(calls[i]!).length),
    [2, 2, 2],
    'one NOTIFY per watcher per change, never two',
  );
  t.same(eps.map((ep, i) => stateOf(ep.transactions(calls[i]!).at(-1)!.msg)), ['early', 'early', 'early']);
});

t.test('entity-tags across nodes: created on 1, refreshed on 2, removed on 3; an unknown one is 412 everywhere (RFC 3903 §4.1, cluster.md §9 test 3)', async (t) => {
  const [n1, n2, n3] = nodes as [ServerProcess, ServerProcess, ServerProcess];
  const watcher = await endpoint(n1);
  const callId = await watch(t, watcher, '7103');
  const p1 = await endpoint(n1);
  const p2 = await endpoint(n2);
  const p3 = await endpoint(n3);
  const created = await p1.publishDialog({ resource: '7103', dialog: dialog('confirmed') });
  t.equal(created.response.status, 200, 'created on node 1');
  t.ok(created.etag);
  t.ok(await watcher.waitUntil(() => watcher.transactions(callId).length >= 2, DELIVERY_MS), 'watcher sees confirmed');

  const refreshed = await p2.request(publishText(p2, n2.sipPort, { resource: '7103', etag: created.etag!, expires: 600 }));
  t.equal(refreshed.status, 200, 'refresh with SIP-If-Match on node 2: 200');
  const etag2 = refreshed.header('sip-etag');
  t.ok(etag2 && etag2 !== created.etag, 'a new entity-tag (RFC 3903 §4.3)');
  const stale = await p3.request(publishText(p3, n3.sipPort, { resource: '7103', etag: created.etag!, expires: 600 }));
  t.equal(stale.status, 412, 'the replaced entity-tag no longer matches, on node 3 either');

  const removed = await p3.request(publishText(p3, n3.sipPort, { resource: '7103', etag: etag2!, expires: 0 }));
  t.equal(removed.status, 200, 'removal on node 3');
  t.ok(await watcher.waitUntil(() => watcher.transactions(callId).length >= 3, DELIVERY_MS), 'watcher told of the removal');
  // The dialog package remembers the ended dialog: the lamp goes dark with `terminated` (RFC 4235 §3.7.1).
  t.equal(stateOf(watcher.transactions(callId).at(-1)!.msg), 'terminated', 'the lamp goes dark');
  for (const [i, p] of [p1, p2, p3].entries()) {
    const r = await p.request(publishText(p, nodes[i]!.sipPort, { resource: '7103', etag: 'nosuchtag', expires: 600 }));
    t.equal(r.status, 412, `unknown entity-tag on node ${i + 1}: 412`);
  }
  await sleep(SETTLE_MS);
  t.equal(watcher.transactions(callId).length, 3, 'the refresh changed nothing a watcher sees: no NOTIFY for it');
});

t.test('a publication expires once for the cluster: one NOTIFY per watcher when it lapses (cluster.md §9 test 6)', async (t) => {
  const eps = await Promise.all(nodes.map((n) => endpoint(n)));
  const calls: string[] = [];
  for (const ep of eps) calls.push(await watch(t, ep, '7104'));
  const pub = await eps[1]!.publishDialog({ resource: '7104', dialog: dialog('confirmed'), expires: 2 });
  t.equal(pub.response.status, 200);
  for (const [i, ep] of eps.entries()) t.ok(await ep.waitUntil(() => ep.transactions(calls[i]!).length >= 2, DELIVERY_MS), `node ${i + 1}'s watcher sees confirmed`);
  for (const [i, ep] of eps.entries()) t.ok(await ep.waitUntil(() => ep.transactions(calls[i]!).length >= 3, 2000 + DELIVERY_MS), `node ${i + 1}'s watcher sees the expiry`);
  await sleep(SETTLE_MS + 1000); // past a sweep on every node
  t.same(eps.map((ep, i) => ep.transactions(calls[i]!).length), [3, 3, 3], 'exactly one NOTIFY each for the expiry');
  t.same(eps.map((ep, i) => stateOf(ep.transactions(calls[i]!).at(-1)!.msg)), ['terminated', 'terminated', 'terminated'], 'every lamp dark');
});

t.test('early on node 1 and terminated on node 2 sent together, 50 times: every node ends terminated (cluster.md §9 test 4, §3 #6)', async (t) => {
  const [n1, n2, n3] = nodes as [ServerProcess, ServerProcess, ServerProcess];
  const ROUNDS = 50;
  const resources = Array.from({ length: ROUNDS }, (_, i) => String(7300 + i));
  const eps = [await endpoint(n1), await endpoint(n2), await endpoint(n3)];
  const watches = await mapLimit(
    resources.flatMap((resource) => eps.map((ep) => ({ resource, ep }))),
    20,
    async ({ resource, ep }) => {
      const sub = await ep.subscribe({ resource, user: `w${token()}`, event: 'dialog', expires: 600 });
      return { resource, ep, callId: sub.callId, status: sub.response.status };
    },
  );
  t.equal(watches.filter((w) => w.status === 200).length, ROUNDS * 3, 'every SUBSCRIBE accepted');
  const p1 = await endpoint(n1);
  const p2 = await endpoint(n2);
  const answers = await mapLimit(resources, 10, async (resource) => {
    const d = dialog('early');
    const [early, ended] = await Promise.all([
      p1.publishDialog({ resource, dialog: d }),
      p2.publishDialog({ resource, dialog: { ...d, state: 'terminated' } }),
    ]);
    return [early.response.status, ended.response.status];
  });
  t.equal(answers.flat().filter((s) => s === 200).length, ROUNDS * 2, 'every PUBLISH accepted (conflicts retried)');
  const last = (w: (typeof watches)[number]): string => stateOf(w.ep.transactions(w.callId).at(-1)?.msg);
  const settled = async (): Promise<boolean> => {
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      if (watches.every((w) => last(w) === 'terminated')) return true;
      await sleep(200);
    }
    return false;
  };
  t.ok(await settled(), 'every watcher on every node ends with the dialog terminated');
  const wrong = watches.filter((w) => last(w) !== 'terminated').map((w) => `${w.resource}:${last(w)}`);
  t.same(wrong, [], 'no lamp left lit');
});

t.test('a frozen Redis (SIGSTOP): node 1 serves its own phones, says degraded, and converges after SIGCONT (cluster.md §9 test 7)', async (t) => {
  const [n1, , n3] = nodes as [ServerProcess, ServerProcess, ServerProcess];
  const w1 = await endpoint(n1);
  const w3 = await endpoint(n3);
  const c1 = await watch(t, w1, '7107');
  const c3 = await watch(t, w3, '7107');
  cluster.redis.pause();
  try {
    const sent = Date.now();
    const pub = await (await endpoint(n1)).publishDialog({ resource: '7107', dialog: dialog('confirmed') }, 15_000);
    t.equal(pub.response.status, 200, 'PUBLISH on node 1 answered while Redis is frozen');
    t.ok(await w1.waitUntil(() => w1.transactions(c1).length >= 2, 8000), 'node 1 NOTIFYs its own watcher');
    t.comment(`frozen engine: PUBLISH answered after ${(w1.transactions(c1)[1]?.at ?? Date.now()) - sent} ms (command timeout 2 s)`);
    let h: Record<string, unknown> = {};
    for (let i = 0; i < 40 && h['cluster'] !== 'degraded'; i++) {
      h = (await (await fetch(`http://127.0.0.1:${n1.apiPort}/healthz`)).json()) as Record<string, unknown>;
      if (h['cluster'] !== 'degraded') await sleep(250);
    }
    t.equal(h['cluster'], 'degraded', '/healthz says degraded');
  } finally {
    cluster.redis.resume();
  }
  t.ok(await w3.waitUntil(() => w3.transactions(c3).length >= 2, 15_000), 'after SIGCONT node 3 hears of it');
  t.equal(stateOf(w3.transactions(c3).at(-1)!.msg), 'confirmed', 'state converged');
  await sleep(SETTLE_MS);
  t.same([w1.transactions(c1).length, w3.transactions(c3).length], [2, 2], 'one NOTIFY per watcher for the change');
});

t.test('kill -9 node 2: node 1 goes on, a PUBLISH on node 3 still reaches node 1\'s watcher (issue 22 acceptance)', async (t) => {
  const [n1, n2, n3] = nodes as [ServerProcess, ServerProcess, ServerProcess];
  const watcher = await endpoint(n1);
  const callId = await watch(t, watcher, '7106');
  await n2.kill9();
  const pub = await (await endpoint(n3)).publishDialog({ resource: '7106', dialog: dialog('confirmed') });
  t.equal(pub.response.status, 200, 'PUBLISH on node 3 accepted');
  t.ok(await watcher.waitUntil(() => watcher.transactions(callId).length >= 2, DELIVERY_MS), 'node 1 NOTIFYs its watcher');
  t.equal(stateOf(watcher.transactions(callId).at(-1)!.msg), 'confirmed');
});

t.test('Redis gone: node 1 keeps serving its own phones and says degraded; Redis back empty: its state reaches the others (cluster.md §8)', async (t) => {
  const [n1, , n3] = nodes as [ServerProcess, ServerProcess, ServerProcess];
  const w1 = await endpoint(n1);
  const w2 = await endpoint(n3);
  const c1 = await watch(t, w1, '7105');
  const c2 = await watch(t, w2, '7105');
  const port = cluster.redis.port;
  await cluster.redis.stop();
  const health = async (): Promise<Record<string, unknown>> => (await (await fetch(`http://127.0.0.1:${n1.apiPort}/healthz`)).json()) as Record<string, unknown>;
  let h: Record<string, unknown> = {};
  for (let i = 0; i < 40 && h['cluster'] !== 'degraded'; i++) {
    h = await health();
    if (h['cluster'] !== 'degraded') await sleep(250);
  }
  t.equal(h['cluster'], 'degraded', '/healthz says degraded');
  t.equal(h['status'], 'ok', 'and the node stays in service');
  const metrics = await (await fetch(`http://127.0.0.1:${n1.apiPort}/metrics`)).text();
  t.match(metrics, /^piston_cluster_connected 0$/m, 'piston_cluster_connected is 0');

  const p1 = await endpoint(n1);
  const sent = Date.now();
  const pub = await p1.publishDialog({ resource: '7105', dialog: dialog('confirmed') }, 10_000);
  t.equal(pub.response.status, 200, 'PUBLISH on node 1 accepted in island mode');
  t.ok(await w1.waitUntil(() => w1.transactions(c1).length >= 2, DELIVERY_MS), 'node 1 NOTIFYs its own watcher');
  t.comment(`island PUBLISH -> NOTIFY on n1: ${(w1.transactions(c1)[1]?.at ?? Date.now()) - sent} ms`);
  t.equal(stateOf(w1.transactions(c1).at(-1)!.msg), 'confirmed');
  t.equal(w2.transactions(c2).length, 1, 'node 3 cannot know yet');

  cluster.redis = await startRedisProcess({ port });
  t.ok(await w2.waitUntil(() => w2.transactions(c2).length >= 2, 15_000), 'after Redis returns (empty), node 3 hears of it');
  t.equal(stateOf(w2.transactions(c2).at(-1)!.msg), 'confirmed', 'state converged');
  let back: Record<string, unknown> = {};
  for (let i = 0; i < 40 && back['cluster'] !== 'ok'; i++) {
    back = await health();
    if (back['cluster'] !== 'ok') await sleep(250);
  }
  t.equal(back['cluster'], 'ok', '/healthz says ok again');
  await sleep(SETTLE_MS);
  t.equal(w1.transactions(c1).length, 2, 'no second NOTIFY on node 1 for its own change');
});
