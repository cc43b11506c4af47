import type { StoreWriteHealth } from '../../store/ports.js';
import type { HealthProbes } from '../api-deps.js';
import type { ApiMetrics } from '../metrics.js';
import { healthAnswer, metricsAnswer, openApiAnswer } from '../answer-schemas.js';
import { apiErrors } from '../api-error.js';
import type { RouteSpec } from '../route-spec.js';

/** Probes that throw count as not ready: a health check must answer, whatever state the process is in. */
function probe(fn: () => boolean): boolean {
  try {
    return fn();
  } catch {
    return false;
  }
}

/** The fault of an open store whose writes fail, as /healthz shows it; null while they succeed. */
function storeFault(health: HealthProbes): Record<string, unknown> | null {
  let writes: StoreWriteHealth | undefined;
  try {
    writes = health.storeWrites?.();
  } catch (err) {
    return { cause: err instanceof Error ? err.message : String(err), code: 'unknown', failed_flushes: 0, since: null };
  }
  if (!writes || writes.writable) return null;
  const f = writes.fault;
  return {
    cause: f?.message ?? 'unknown',
    code: f?.code ?? 'unknown',
    failed_flushes: writes.failedFlushes,
    since: f ? new Date(f.since).toISOString() : null,
  };
}

/** Operations: health (no auth), Prometheus metrics, the OpenAPI document. */
export function opsRoutes(health: HealthProbes, metrics: ApiMetrics | undefined, openapi: () => unknown): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/healthz',
      summary: 'Readiness: 200 when SIP and the store are ready, else 503 (a store whose writes fail is "failing", with its fault)',
      tag: 'operations',
      auth: 'none',
      output: 'raw',
      success: 200,
      answer: healthAnswer,
      alsoAnswers: [503],
      handle: (ctx) => {
        const sip = probe(() => health.sip());
        const open = probe(() => health.store());
        const fault = open ? storeFault(health) : null;
        const store = !open ? 'not_ready' : fault ? 'failing' : 'ready';
        const ok = sip && store === 'ready';
        ctx.status = ok ? 200 : 503;
        // Island mode is no reason to take the node out of rotation: its phones are still served (cluster.md §8).
        const cluster = health.cluster ? (probe(() => health.cluster?.() === 'ok') ? 'ok' : 'degraded') : undefined;
        ctx.body = {
          sip: sip ? 'ready' : 'not_ready',
          status: ok ? 'ok' : 'unavailable',
          store,
          ...(fault ? { store_fault: fault } : {}),
          ...(cluster ? { cluster } : {}),
        };
      },
    },
    {
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics (text exposition format)',
      tag: 'operations',
      auth: 'none',
      output: 'raw',
      success: 200,
      answer: metricsAnswer,
      answerType: 'text/plain',
      handle: async (ctx) => {
        if (!metrics) throw apiErrors.notFound();
        const text = await metrics.registry.metrics();
        ctx.status = 200;
        ctx.type = metrics.registry.contentType;
        ctx.body = text;
      },
    },
    {
      method: 'get',
      path: '/v2/openapi.json',
      summary: 'This OpenAPI 3.1 document',
      tag: 'operations',
      auth: 'none',
      output: 'raw',
      success: 200,
      answer: openApiAnswer,
      handle: (ctx) => {
        ctx.status = 200;
        ctx.body = openapi();
      },
    },
  ];
}
