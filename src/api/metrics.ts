import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PresenceEvent, PresenceFeed } from '../feed/presence-feed.js';
import type { Unsubscribe } from '../lib/feed.js';
import type { StoreWriteHealth } from '../store/ports.js';

/**
 * Prometheus metrics of the server (issue 4, operations). The registry is passed in so main.ts decides what else it
 * holds (default process metrics) and tests get a fresh one each.
 */
export interface ApiMetricsOptions {
  registry: Registry;
  /** Live subscriptions per event package, read at scrape time (the notifier's live set, `notifier.countByEvent()`). */
  subscriptionsByEvent: () => Record<string, number>;
  /** Event packages always reported, with 0 when none. Default: dialog, presence, message-summary. */
  events?: readonly string[];
  /** The store's write health, read at scrape time (`() => store.writeHealth()`); without it no store metrics. */
  storeHealth?: () => StoreWriteHealth;
  /** Open SIP connections per transport (tcp, tls, ws, wss), read at scrape time; without it no connection metrics. */
  connectionsByTransport?: () => Record<string, number>;
  /** Connections refused per transport (at accept, TLS handshake, WebSocket upgrade), a running count read at scrape time. */
  refusedByTransport?: () => Record<string, number>;
  /** The abuse limits' counts (src/security/limits), read at scrape time; without it no limit metrics. */
  limits?: () => LimitSnapshot;
}

/** What the abuse limits report: hits per limit (a fixed set of names), sources banned now, framer bytes held. */
export interface LimitSnapshot {
  readonly hits: Readonly<Record<string, number>>;
  readonly bannedSources: number;
  readonly framerBytes: number;
}

export interface ApiMetrics {
  readonly registry: Registry;
  /** Listens to the feed as a core listener: counts NOTIFYs sent and failed, in the turn they happen. */
  watch(feed: PresenceFeed): Unsubscribe;
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
  const storeHealth = opts.storeHealth;
  if (storeHealth) {
    new Gauge({
      name: 'piston_store_healthy',
      help: '1 while the store writes succeed, 0 while its flushes fail (new subscriptions and publications get 503)',
      registers: [registry],
      collect() {
        this.set(storeHealth().writable ? 1 : 0);
      },
    });
    // The store counts; a counter set at scrape time keeps one source of truth.
    new Counter({
      name: 'piston_store_flush_failures_total',
      help: 'Store flushes that failed (each is retried with every pending write kept)',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(storeHealth().failedFlushes);
      },
    });
  }
  const connections = opts.connectionsByTransport;
  if (connections) {
    new Gauge({
      name: 'piston_sip_connections',
      help: 'Open SIP connections, by transport (tcp, tls, ws, wss)',
      labelNames: ['transport'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [transport, n] of Object.entries(connections())) this.set({ transport }, n);
      },
    });
  }
  const refused = opts.refusedByTransport;
  if (refused) {
    new Counter({
      name: 'piston_sip_connections_refused_total',
      help: 'SIP connections refused at accept, in the TLS handshake or at the WebSocket upgrade, by transport',
      labelNames: ['transport'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [transport, n] of Object.entries(refused())) this.inc({ transport }, n);
      },
    });
  }
  const byTransport = new Counter({
    name: 'piston_notify_sent_by_transport_total',
    help: 'NOTIFY requests sent, by the transport of the subscription (udp, tcp, tls, ws, wss)',
    labelNames: ['transport'],
    registers: [registry],
  });
  const limits = opts.limits;
  if (limits) {
    // The limits count in plain numbers on the SIP path; the metrics copy them here, at scrape time only.
    new Counter({
      name: 'piston_sip_limit_hits_total',
      help: 'Requests dropped or refused, connections refused or closed, subscriptions and publications refused, by abuse limit',
      labelNames: ['limit'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [limit, n] of Object.entries(limits().hits)) this.inc({ limit }, n);
      },
    });
    new Gauge({
      name: 'piston_sip_banned_sources',
      help: 'Source addresses banned now for passing their request rate (UDP dropped, connections answered 503)',
      registers: [registry],
      collect() {
        this.set(limits().bannedSources);
      },
    });
    new Gauge({
      name: 'piston_sip_framer_bytes',
      help: 'Bytes held by the stream framers while waiting for the rest of a message (against PISTON_SIP_FRAMER_BUDGET_BYTES)',
      registers: [registry],
      collect() {
        this.set(limits().framerBytes);
      },
    });
  }
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
  const count = (e: PresenceEvent): void => {
    if (e.kind === 'notify-sent') {
      sent.inc({ event: e.subscription.event });
      byTransport.inc({ transport: e.subscription.flow.protocol });
    }
    else if (e.kind === 'notify-answered' && !e.answer.ok) failed.inc({ event: e.subscription.event, failure: String(e.answer.failure) });
  };
  return {
    registry,
    // A counter increment costs less than queueing the event would: queued, two events per NOTIFY waited for a later
    // turn, and in a 10,000-NOTIFY wave the queue itself became part of the backlog (bench/README.md, issue 18).
    watch: (feed) => feed.core(count),
    // The Event header comes from the network: unknown names fold into one label value to bound cardinality.
    publishReceived: (event, status) =>
      publishes.inc({ event: always.includes(event) ? event : 'other', status: String(status) }),
    observeRequest: (method, route, status, seconds) => latency.observe({ method, route, status: String(status) }, seconds),
  };
}
