import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { NotifierEvents } from '../subscriptions/notifier-events.js';

/**
 * Prometheus metrics of the server (issue 4, operations). The registry is passed in so main.ts decides what else it
 * holds (default process metrics) and tests get a fresh one each.
 */
export interface ApiMetricsOptions {
  registry: Registry;
  /** Live subscriptions per event package, read at scrape time (e.g. `() => store.subscriptions.countByEvent()`). */
  subscriptionsByEvent: () => Record<string, number>;
  /** Event packages always reported, with 0 when none. Default: dialog, presence, message-summary. */
  events?: readonly string[];
}

export interface ApiMetrics {
  readonly registry: Registry;
  /** Pass as `NotifierOptions.events`: counts NOTIFYs sent and failed. */
  readonly notifierEvents: NotifierEvents;
  /** Call for each PUBLISH request with its Event package and the status it was answered with. */
  publishReceived(event: string, status: number): void;
  /** Times one admin API request (the API middleware calls it). */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}

export function createApiMetrics(opts: ApiMetricsOptions): ApiMetrics {
  const { registry } = opts;
  const always = opts.events ?? ['dialog', 'presence', 'message-summary'];
  new Gauge({
    name: 'piston_subscriptions',
    help: 'Live SIP subscriptions, by event package',
    labelNames: ['event'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = opts.subscriptionsByEvent();
      for (const event of always) this.set({ event }, counts[event] ?? 0);
      for (const [event, n] of Object.entries(counts)) if (!always.includes(event)) this.set({ event }, n);
    },
  });
  const sent = new Counter({
    name: 'piston_notify_sent_total',
    help: 'NOTIFY requests sent, by event package',
    labelNames: ['event'],
    registers: [registry],
  });
  const failed = new Counter({
    name: 'piston_notify_failed_total',
    help: 'NOTIFY requests that failed (timeout, transport error or an error response), by event package and failure',
    labelNames: ['event', 'failure'],
    registers: [registry],
  });
  const publishes = new Counter({
    name: 'piston_publish_total',
    help: 'PUBLISH requests received, by event package and response status',
    labelNames: ['event', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'piston_http_request_duration_seconds',
    help: 'Admin API request latency, by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return {
    registry,
    notifierEvents: {
      notifySent: (rec) => sent.inc({ event: rec.event }),
      notifyFailed: (rec, failure) => failed.inc({ event: rec.event, failure: String(failure) }),
    },
    // The Event header comes from the network: unknown names fold into one label value to bound cardinality.
    publishReceived: (event, status) =>
      publishes.inc({ event: always.includes(event) ? event : 'other', status: String(status) }),
    observeRequest: (method, route, status, seconds) => latency.observe({ method, route, status: String(status) }, seconds),
  };
}
