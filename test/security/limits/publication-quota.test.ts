import t from 'tap';
import { newLimitCounters } from '../../../src/security/limits/limit-counters.js';
import { createPublicationQuota, TOO_MANY_PUBLICATIONS } from '../../../src/security/limits/publication-quota.js';

t.test('a resource holds at most 20 publications: the 21st new one gets 403, changes to held ones pass (Kazoo max_call_per_presentity)', async (t) => {
  const held = new Map<string, number>([['1001@example.com', 20]]);
  const counters = newLimitCounters();
  const authorize = createPublicationQuota({ perResource: 20, ceiling: 0, ofResource: (r) => held.get(r) ?? 0, live: () => 20, retryAfterS: 60, counters });
  t.same(authorize({ resource: '1001@example.com', action: 'create' }), { ok: false, response: { status: 403, reason: TOO_MANY_PUBLICATIONS } });
  for (const action of ['modify', 'refresh', 'remove'] as const) t.ok(authorize({ resource: '1001@example.com', action }).ok, `${action} passes`);
  t.ok(authorize({ resource: '1002@example.com', action: 'create' }).ok, 'another resource has room');
  t.equal(counters['publications-per-resource'], 1);
});

t.test('over the global ceiling a new publication gets 503 + Retry-After (security.md §4.2)', async (t) => {
  let live = 50_000;
  const counters = newLimitCounters();
  const authorize = createPublicationQuota({ perResource: 20, ceiling: 50_000, ofResource: () => 0, live: () => live, retryAfterS: 60, counters });
  t.same(authorize({ resource: '1@example.com', action: 'create' }), { ok: false, response: { status: 503, headers: [['Retry-After', '60']] } });
  t.ok(authorize({ resource: '1@example.com', action: 'remove' }).ok, 'a PBX can always end what it published');
  live--;
  t.ok(authorize({ resource: '1@example.com', action: 'create' }).ok);
  t.equal(counters['publication-ceiling'], 1);
});

t.test('0 turns each limit off', async (t) => {
  const authorize = createPublicationQuota({ perResource: 0, ceiling: 0, ofResource: () => 1e6, live: () => 1e9, retryAfterS: 60, counters: newLimitCounters() });
  t.ok(authorize({ resource: '1@example.com', action: 'create' }).ok);
});
