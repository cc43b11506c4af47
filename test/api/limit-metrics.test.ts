import t from 'tap';
import { Registry } from 'prom-client';
import { createApiMetrics } from '../../src/api/metrics.js';
import { newLimitCounters } from '../../src/security/limits/limit-counters.js';

t.test('the abuse limits are read at scrape time: hits per limit, banned sources, framer bytes (security.md §4.2)', async (t) => {
  const counters = newLimitCounters();
  let banned = 0;
  const metrics = createApiMetrics({
    registry: new Registry(),
    subscriptionsByEvent: () => ({}),
    limits: () => ({ hits: counters, bannedSources: banned, framerBytes: 1234 }),
  });
  counters['rate-dropped'] += 19_950;
  counters['subscriptions-per-watcher']++;
  banned = 1;
  const text = await metrics.registry.metrics();
  t.match(text, /piston_sip_limit_hits_total\{limit="rate-dropped"\} 19950/);
  t.match(text, /piston_sip_limit_hits_total\{limit="subscriptions-per-watcher"\} 1/);
  t.match(text, /piston_sip_limit_hits_total\{limit="scanner"\} 0/, 'every limit is reported, 0 when not hit');
  t.match(text, /piston_sip_banned_sources 1/);
  t.match(text, /piston_sip_framer_bytes 1234/);
  counters.scanner += 2;
  t.match(await metrics.registry.metrics(), /piston_sip_limit_hits_total\{limit="scanner"\} 2/, 'a later scrape sees the new counts');
});

t.test('without the limits there are no limit metrics', async (t) => {
  const metrics = createApiMetrics({ registry: new Registry(), subscriptionsByEvent: () => ({}) });
  t.notMatch(await metrics.registry.metrics(), /piston_sip_limit/);
});
