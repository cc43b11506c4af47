import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { healthAnswer } from '../../src/api/answer-schemas.js';
import { createApiMetrics } from '../../src/api/metrics.js';
import type { StoreWriteHealth } from '../../src/store/ports.js';
import { CORRUPT, WRITABLE } from '../store/helpers/faulty-store.js';
import { apiHarness } from './helpers/api-harness.js';

/** A store whose flushes fail is not ready: /healthz says so with its fault, and /metrics counts it. */

async function setup(t: Test) {
  const state = { health: WRITABLE as StoreWriteHealth };
  const metrics = createApiMetrics({ registry: new Registry(), subscriptionsByEvent: () => ({}), storeHealth: () => state.health });
  const flags = { sip: true, store: true };
  const h = await apiHarness(t, {
    metrics,
    health: { sip: () => flags.sip, store: () => flags.store, storeWrites: () => state.health },
  });
  return { h, state, flags };
}

t.test('GET /healthz is 503 "failing" with the fault while the store cannot write, and 200 again once it can', async (t) => {
  const { h, state } = await setup(t);
  t.strictSame((await h.request('GET', '/healthz')).json, { sip: 'ready', status: 'ok', store: 'ready' });
  state.health = CORRUPT;
  const failing = await h.request('GET', '/healthz');
  t.equal(failing.status, 503);
  t.strictSame(failing.json, {
    sip: 'ready',
    status: 'unavailable',
    store: 'failing',
    store_fault: {
      cause: 'database disk image is malformed',
      code: 'SQLITE_CORRUPT',
      failed_flushes: 3,
      since: new Date(CORRUPT.fault!.since).toISOString(),
    },
  });
  t.ok(healthAnswer.safeParse(failing.json).success, 'the documented Health shape (OpenAPI) holds the failing answer');
  state.health = { ...WRITABLE, failedFlushes: 3 };
  const healed = await h.request('GET', '/healthz');
  t.equal(healed.status, 200);
  t.strictSame(healed.json, { sip: 'ready', status: 'ok', store: 'ready' }, 'the body is as before the fault');
});

t.test('a closed store is "not_ready" whatever its last flush did', async (t) => {
  const { h, state, flags } = await setup(t);
  state.health = CORRUPT;
  flags.store = false;
  const res = await h.request('GET', '/healthz');
  t.equal(res.status, 503);
  t.strictSame(res.json, { sip: 'ready', status: 'unavailable', store: 'not_ready' });
});

t.test('a write-health probe that throws counts as failing, never as a 500', async (t) => {
  const h = await apiHarness(t, {
    health: {
      sip: () => true,
      store: () => true,
      storeWrites: () => {
        throw new Error('probe broke');
      },
    },
  });
  const res = await h.request('GET', '/healthz');
  t.equal(res.status, 503);
  t.match(res.json, { store: 'failing', store_fault: { cause: 'probe broke' } });
});

t.test('GET /metrics: piston_store_healthy is 1 or 0 and piston_store_flush_failures_total counts failed flushes', async (t) => {
  const { h, state } = await setup(t);
  let text = (await h.request('GET', '/metrics')).text;
  t.match(text, /^piston_store_healthy 1$/m);
  t.match(text, /^piston_store_flush_failures_total 0$/m);
  state.health = CORRUPT;
  text = (await h.request('GET', '/metrics')).text;
  t.match(text, /^piston_store_healthy 0$/m);
  t.match(text, /^piston_store_flush_failures_total 3$/m);
  t.match(text, /^# TYPE piston_store_flush_failures_total counter$/m);
  state.health = { ...WRITABLE, failedFlushes: 3 };
  text = (await h.request('GET', '/metrics')).text;
  t.match(text, /^piston_store_healthy 1$/m);
  t.match(text, /^piston_store_flush_failures_total 3$/m, 'the count does not go back');
});
