import t from 'tap';
import { Registry } from 'prom-client';
import { createAccountServices } from '../../src/accounts/account-services.js';
import { buildRouters } from '../../src/api/create-api-app.js';
import { createApiMetrics } from '../../src/api/metrics.js';
import { createPresenceFeed } from '../../src/feed/presence-feed.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMemoryStore } from '../../src/store/memory/index.js';
import { subscriptionRecord } from '../store/helpers/records.js';
import { apiHarness } from './helpers/api-harness.js';
import { FakeNotifier, FakePresentity } from './helpers/fakes.js';

t.test('GET /healthz needs no token and reports SIP and store readiness (200 / 503)', async (t) => {
  const h = await apiHarness(t);
  const ok = await h.request('GET', '/healthz');
  t.equal(ok.status, 200);
  t.strictSame(ok.json, { sip: 'ready', status: 'ok', store: 'ready' });
  h.health.sip = false;
  const noSip = await h.request('GET', '/healthz');
  t.equal(noSip.status, 503);
  t.strictSame(noSip.json, { sip: 'not_ready', status: 'unavailable', store: 'ready' });
  h.health.sip = true;
  h.health.store = false;
  t.strictSame((await h.request('GET', '/healthz')).json, { sip: 'ready', status: 'unavailable', store: 'not_ready' });
});

t.test('a health probe that throws counts as not ready, never as a 500', async (t) => {
  const h = await apiHarness(t, {
    health: {
      sip: () => true,
      store: () => {
        throw new Error('closed');
      },
    },
  });
  const res = await h.request('GET', '/healthz');
  t.equal(res.status, 503);
  t.equal(res.json.store, 'not_ready');
});

t.test('GET /metrics: Prometheus text with subscriptions by event, NOTIFYs, PUBLISHes and request latency', async (t) => {
  const h = await apiHarness(t);
  h.notifier.subs = [subscriptionRecord()];
  const rec = subscriptionRecord();
  // The notifier's events reach metrics through the feed (one observer, drained on a later turn).
  const feed = createPresenceFeed({ logger: silentLogger });
  h.metrics.watch(feed);
  feed.emit({ kind: 'notify-sent', subscription: rec, final: false, cseq: 1, version: 0 });
  feed.emit({ kind: 'notify-sent', subscription: rec, final: false, cseq: 1, version: 0 });
  feed.emit({ kind: 'notify-answered', subscription: rec, answer: { ok: false, failure: 'timeout' }, cseq: 1 });
  feed.emit({ kind: 'notify-answered', subscription: rec, answer: { ok: true, status: 200 }, cseq: 1 });
  h.metrics.publishReceived('dialog', 200);
  h.metrics.publishReceived('weird-event', 489);
  await h.request('GET', '/healthz');
  const res = await h.request('GET', '/metrics');
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain/);
  t.match(res.text, /^piston_subscriptions\{event="dialog"\} 1$/m);
  t.match(res.text, /^piston_subscriptions\{event="presence"\} 0$/m);
  t.match(res.text, /^piston_notify_sent_total\{event="dialog"\} 2$/m);
  t.match(res.text, /^piston_notify_failed_total\{event="dialog",failure="timeout"\} 1$/m);
  t.match(res.text, /^piston_publish_total\{event="dialog",status="200"\} 1$/m);
  t.match(res.text, /^piston_publish_total\{event="other",status="489"\} 1$/m, 'unknown event names fold into "other"');
  t.match(res.text, /^piston_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1$/m);
});

t.test('GET /v2/openapi.json is an OpenAPI 3.1 document without auth', async (t) => {
  const h = await apiHarness(t);
  const res = await h.request('GET', '/v2/openapi.json');
  t.equal(res.status, 200);
  t.equal(res.json.openapi, '3.1.0');
  const put = res.json.paths['/v2/accounts/{accountId}/devices'].put;
  t.strictSame(put.requestBody.content['application/json'].schema.required, ['data']);
  const data = put.requestBody.content['application/json'].schema.properties.data;
  t.strictSame(data.required.sort(), ['name', 'sip']);
  t.strictSame(data.properties.sip.required.sort(), ['password', 'username'], 'the same schema the service validates with');
  const post = res.json.paths['/v2/accounts/{accountId}/devices/{deviceId}'].post;
  t.strictSame(post.requestBody.content['application/json'].schema.properties.data.properties.sip.required, ['username'], 'POST keeps the password optional');
});

t.test('every router route appears in the OpenAPI document and every documented operation is routed', async (t) => {
  const store = createMemoryStore();
  const clock = new ManualClock();
  const { routers } = buildRouters({
    services: createAccountServices({ store, clock, defaultAccountForUnknownDomains: true }),
    presentity: new FakePresentity(),
    notifier: new FakeNotifier(),
    clock,
    logger: silentLogger,
    health: { sip: () => true, store: () => true },
    metrics: createApiMetrics({ registry: new Registry(), subscriptionsByEvent: () => ({}) }),
  });
  const routed = new Set<string>();
  for (const { router } of routers) {
    for (const layer of router.stack) {
      const path = String(layer.path).replace(/:([A-Za-z_]\w*)/g, '{$1}');
      for (const m of layer.methods) if (m !== 'HEAD') routed.add(`${m.toLowerCase()} ${path}`);
    }
  }
  const h = await apiHarness(t);
  const doc = (await h.request('GET', '/v2/openapi.json')).json;
  const documented = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops)) documented.add(`${method} ${path}`);
  }
  t.ok(routed.size >= 20, `${routed.size} routes`);
  t.strictSame([...routed].filter((r) => !documented.has(r)), [], 'routed but not documented');
  t.strictSame([...documented].filter((r) => !routed.has(r)), [], 'documented but not routed');
  t.equal(routers.length, 7, 'one router per resource (trusted_peers the 7th)');
});
