import t from 'tap';
import { apiHarness } from './helpers/api-harness.js';

/** /healthz in cluster mode (cluster.md §8): island mode shows as `cluster: degraded` and keeps the node in service. */

t.test('GET /healthz in cluster mode: cluster ok, or degraded with the node still answering 200', async (t) => {
  let cluster: 'ok' | 'degraded' = 'ok';
  const h = await apiHarness(t, { health: { sip: () => true, store: () => true, cluster: () => cluster } });
  const ok = await h.request('GET', '/healthz');
  t.equal(ok.status, 200);
  t.strictSame(ok.json, { sip: 'ready', status: 'ok', store: 'ready', cluster: 'ok' });
  cluster = 'degraded';
  const island = await h.request('GET', '/healthz');
  t.equal(island.status, 200, 'island mode serves its own phones: no reason to leave the rotation');
  t.strictSame(island.json, { sip: 'ready', status: 'ok', store: 'ready', cluster: 'degraded' });
});

t.test('a cluster probe that throws counts as degraded, never as a 500', async (t) => {
  const h = await apiHarness(t, {
    health: {
      sip: () => true,
      store: () => true,
      cluster: () => {
        throw new Error('gone');
      },
    },
  });
  const res = await h.request('GET', '/healthz');
  t.equal(res.status, 200);
  t.equal(res.json.cluster, 'degraded');
});
