import { pathToFileURL } from 'node:url';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { pino } from 'pino';
import { loadConfig, ConfigError, type Config } from './config/config.js';
import { SystemClock, type Clock } from './lib/clock.js';
import type { Logger } from './lib/logger.js';
import { TLS, UDP, WS, WSS } from './sip/transport/transport-descriptor.js';
import { readTlsCredentials, TlsCredentialsError, type TlsCredentials } from './sip/transport/tls-credentials.js';
import type { EventPackageRegistry } from './events/event-package.js';
import { warmUpRound } from './events/warm-up.js';
import { Rehearsal } from './main-rehearsal.js';
import { runInIdleSlices } from './lib/idle-slices.js';
import { openSqliteStore, storeStartError } from './store/sqlite/sqlite-store.js';
import type { AdminDataStore, PresenceStateStore, StoreBackend } from './store/ports.js';
import { bootstrap, createAccountServices, createApiKeyCommand, firstStartMessage, unusedBootstrapKeyMessage } from './accounts/index.js';
import { createApiApp, createApiMetrics, operatorDeps, startApi } from './api/index.js';
import { PresenceHistory } from './history/presence-history.js';
import { SqliteHistoryRepository } from './store/sqlite/sqlite-history.js';
import { describeListenError, ListenError, type ListenTarget } from './lib/listen-error.js';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { PresentityService } from './presentity/presentity-service.js';
import { composePolicies, createPresenceStack, socketListeners, type PresenceStack } from './stack/index.js';
import { peerRecognition } from './security/index.js';
import { createAbuseLimits } from './security/limits/index.js';
import { SEQUENCE_LEASE, type Notifier } from './subscriptions/notifier.js';
import { sipAuthPolicy, sipNonceService } from './main-security.js';
import { clusterAdminStore, wireCluster, type ClusterWiring } from './main-cluster.js';

/**
 * The composition root: reads the configuration, opens the store, builds the SIP stack (src/stack/) and the admin
 * API over it, starts the listeners, and stops it all cleanly.
 */

export interface RunningServer {
  readonly sipPort: number;
  readonly apiPort: number;
  readonly store: StoreBackend;
  readonly notifier: Notifier;
  readonly presentity: PresentityService;
  /** The TLS, WS and WSS ports listened on (absent when off). */
  readonly tlsPort?: number | undefined;
  readonly wsPort?: number | undefined;
  readonly wssPort?: number | undefined;
  /**
   * SIGHUP: rereads the SIP TLS certificate, key and CA, and the admin API's certificate and key. New handshakes use
   * them, open connections keep theirs. Broken files leave the old ones in use and log an error; false then.
   */
  reloadTls(): boolean;
  stop(): Promise<void>;
}

/**
 * Sequence headroom after a crash: the store holds CSeq/version at most SEQUENCE_LEASE NOTIFYs behind, and its
 * write-behind buffer (up to ~100 ms) may be lost with a kill -9. One NOTIFY per subscription is in flight at a time,
 * so 100 ms cannot hold more than a handful more; four leases are ample and small enough that a phone sees only a
 * version gap and refreshes.
 */
const CRASH_HEADROOM = 4 * SEQUENCE_LEASE;
const CLEAN_MARK = 'clean-shutdown';

/** How long a clean shutdown waits for transactions in flight (a NOTIFY's Timer F is 32 s; we do not wait that long). */
const DRAIN_LIMIT_MS = 5000;

/** Warm-up runs only once no request has arrived for this long (startWarmUp). */
const WARM_UP_QUIET_MS = 200;

/** The event-loop delay metric's sampling interval (prom-client's `eventLoopMonitoringPrecision`). */
const EVENT_LOOP_SAMPLE_MS = 100;

export async function startServer(
  config: Config,
  logger: Logger,
  clock: Clock = new SystemClock(),
): Promise<RunningServer> {
  const store = openSqliteStore({ dataDir: config.dataDir, clock, logger: logger.child({ module: 'store' }) });
  // One SQLite file serves both ports; each consumer takes its side (src/store/ports.ts).
  // Cluster mode: the same store, its writes mirrored to the other nodes (main-cluster.ts).
  const adminData: AdminDataStore = clusterAdminStore(config, store);
  const presenceState: PresenceStateStore = store;
  // A clean stop leaves a mark; its absence next to an existing database means the last run crashed.
  const cleanMark = join(config.dataDir, CLEAN_MARK);
  const crashed = !existsSync(cleanMark) && (await presenceState.subscriptions.count()) > 0;
  rmSync(cleanMark, { force: true });
  logger.info({ store: store.ready, crashed }, 'store open');
  const expiry = {
    min: config.subscriptions.minExpires,
    max: config.subscriptions.maxExpires,
    default: config.subscriptions.defaultExpires,
  };
  const accountServices = createAccountServices({
    store: adminData,
    clock,
    defaultAccountForUnknownDomains: config.accounts.defaultAccountForUnknownDomains,
  });
  const accounts = accountServices.resolver;
  // Each account's trusted peers (security.md §3.3), kept current by the accounts service.
  const trustedPeers = accountServices.trustedPeers.index.lookup;
  const metricsRegistry = new Registry();
  // prom-client samples event-loop delay on a timer, every 10 ms by default: 100 wakeups a second, ~1.5% of a core
  // on an idle server (strace: one epoll_wait per 10 ms). Ten samples a second still show a stalled loop.
  collectDefaultMetrics({ register: metricsRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  // The abuse limits (security.md §4) read the live counts late: the stack they guard is built below, with them.
  let live: PresenceStack | undefined;
  const limits = createAbuseLimits(config.limits, {
    clock,
    trusted: trustedPeers,
    liveSubscriptions: () => live?.notifier.count() ?? 0,
    livePublications: () => live?.presentity.stats().publications ?? 0,
    publicationsOf: (resource) => live?.presentity.publicationCount(resource) ?? 0,
  });
  // Read at scrape time from the notifier's live set (a store count would flush the write-behind buffer first).
  const metrics = createApiMetrics({
    registry: metricsRegistry,
    subscriptionsByEvent: () => notifier.countByEvent(),
    storeHealth: () => presenceState.writeHealth(),
    connectionsByTransport: () => stack.transports?.connectionCounts() ?? {},
    refusedByTransport: () => stack.transports?.refusedCounts() ?? {},
    limits: () => ({ hits: limits.counters, bannedSources: limits.bannedSources(), framerBytes: limits.framerBytes() }),
  });

  // Digest authentication and authorization (security.md) unless PISTON_SIP_AUTH=off; the abuse limits either way.
  // Authorization asks the digest policy first: a watcher of another account hears 403 before any quota is counted.
  // With it off, trusted peers are still recognised as peers (their Record-Route is honoured).
  // Cluster mode: the nonces adopt the secret every node shares (main-cluster.ts), so any node verifies any node's.
  const nonces = config.cluster && config.sipAuth.mode !== 'off' ? sipNonceService(config) : undefined;
  const auth = sipAuthPolicy(config, adminData, trustedPeers, clock, logger, nonces) ?? peerRecognition(trustedPeers);
  const limitsPolicy = { admit: limits.admit, authorizeSubscribe: limits.authorizeSubscribe, authorizePublish: limits.authorizePublish };
  const policy = composePolicies(auth, limitsPolicy);

  const tlsFiles = config.sip.tls;
  // Read before anything listens: broken files stop the start with a message naming the file.
  const tlsCredentials: TlsCredentials | undefined = tlsFiles && readTlsCredentials(tlsFiles);
  const ws = config.sip.websocket;
  let lastRequestAt = -Infinity;
  const stack = createPresenceStack({
    policy,
    store,
    clock,
    logger,
    accounts,
    events: { expires: { dialog: expiry, presence: expiry, 'message-summary': expiry } },
    transports: socketListeners({
      hosts: config.sip.hosts,
      port: config.sip.port,
      maxDatagramBytes: config.sip.maxMessageBytes,
      maxMessageBytes: config.sip.maxMessageBytes,
      maxConnections: config.sip.maxConnections,
      maxBufferedBytes: config.sip.maxBufferedBytes,
      udpBufferBytes: config.sip.udpBufferBytes,
      reusePort: config.sip.reusePort,
      tcpIdleMs: config.sip.tcpIdleMs,
      connectionLimits: limits.connections,
      ...(tlsCredentials && tlsFiles
        ? { tls: { port: tlsFiles.port, credentials: tlsCredentials, handshakeTimeoutMs: config.sip.handshakeTimeoutMs } }
        : {}),
      websocket: {
        ...(ws.wsPort === undefined ? {} : { ws: { port: ws.wsPort } }),
        ...(ws.wssPort === undefined || !tlsCredentials ? {} : { wss: { port: ws.wssPort, credentials: tlsCredentials } }),
        maxMessageBytes: config.sip.maxMessageBytes,
        maxConnections: config.sip.maxConnections,
        maxBufferedBytes: config.sip.maxBufferedBytes,
        idleMs: config.sip.tcpIdleMs,
        pingIntervalMs: ws.pingIntervalMs,
        upgradeTimeoutMs: config.sip.handshakeTimeoutMs,
        origins: ws.origins,
        // The same per-address gate and first-bytes deadline as TCP and TLS (security.md §4.2).
        connectionLimits: limits.connections,
      },
      clock,
      logger,
    }),
    timers: { t1: config.sip.t1, t2: config.sip.t2, t4: config.sip.t4 },
    nodeName: config.nodeName,
    allDialogs: config.subscriptions.allDialogs,
    minPublishExpires: config.publications.minExpires,
    ...(config.sip.publicHost ? { publicHost: config.sip.publicHost } : {}),
    onRequestArrived: () => {
      lastRequestAt = performance.now();
    },
    onPublishAnswered: (event, status) => metrics.publishReceived(event, status),
  });
  const { registry, presentity, notifier } = stack;
  live = stack;
  metrics.watch(stack.feed);
  // The per-watcher count moves with the notifier's own events, synchronously (O(1) each, no scan).
  stack.feed.core((e) => {
    if (e.kind === 'subscription-created') limits.subscriptionCreated(e.subscription);
    else if (e.kind === 'subscription-removed') limits.subscriptionRemoved(e.subscription);
  });

  const started = clock.now();
  // Published state first, then subscriptions, both before the listeners open below.
  await stack.restore({ headroom: crashed ? CRASH_HEADROOM : 0 });
  logger.info({ subscriptions: notifier.count(), ms: clock.now() - started }, 'state restored');
  // Cluster mode (PISTON_CLUSTER_REDIS_URL): shared presence state through Redis, before the listeners open.
  const cluster: ClusterWiring | undefined = config.cluster
    ? await wireCluster({ ...config, cluster: config.cluster }, stack, {
        clock,
        logger,
        metrics: metricsRegistry,
        admin: {
          store: adminData,
          onApplied: () => {
            accounts.refresh();
            accountServices.trustedPeers.index.refresh();
          },
        },
        ...(nonces ? { nonces } : {}),
      })
    : undefined;
  await cluster?.start();

  // The per-resource history (docs/operator-api.md): its own SQLite file, written once a second off the SIP path.
  const historyRepository = SqliteHistoryRepository.open(config.dataDir);
  const history = new PresenceHistory({
    feed: stack.feed,
    clock,
    logger: logger.child({ module: 'history' }),
    repository: historyRepository,
    stateOf: (resource, event) => presentity.state(resource, event),
  });
  history.start();

  let sipListening = true;
  let storeOpen = true;
  const app = createApiApp({
    services: accountServices,
    presentity: cluster ? cluster.control(presentity) : presentity,
    notifier,
    clock,
    logger: logger.child({ module: 'api' }),
    metrics,
    health: {
      sip: () => sipListening,
      store: () => storeOpen,
      storeWrites: () => presenceState.writeHealth(),
      ...(cluster ? { cluster: () => cluster.node.health() } : {}),
    },
    ...(cluster ? { clusterList: cluster.clusterList } : {}),
    operator: operatorDeps(presentity, stack.feed, history),
  });
  let api: Awaited<ReturnType<typeof startApi>>;
  try {
    await stack.start().catch((err: unknown) => {
      throw describeListenError(err, sipListenTarget(config, err));
    });
    api = await startApi(app, { host: config.api.host, port: config.api.port, ...(config.api.tls ? { tls: config.api.tls } : {}) }).catch((err: unknown) => {
      throw describeListenError(err, {
        service: 'the admin API',
        hostVariable: 'PISTON_API_HOST',
        portVariable: 'PISTON_API_PORT',
        host: config.api.host,
        port: config.api.port,
      });
    });
  } catch (err) {
    // Nothing was bootstrapped yet, so the next start is again a first start. No clean-shutdown mark: SIP may have
    // answered for a moment, and the next start then adds CSeq headroom, the safe side.
    await stack.abort();
    await cluster?.stop().catch(() => undefined);
    history.stop();
    historyRepository.close();
    try {
      store.close();
    } catch {
      // the listen error is the one to report
    }
    throw err;
  }
  // First start only now that both listeners are up: a start that cannot listen must not leave an account and a key
  // the operator never saw (api-contract.md: the first start makes the master account and its API key).
  // Cluster mode: a first start waits (bounded) for Redis's admin data, so it does not make a second master.
  await cluster?.beforeBootstrap();
  const boot = bootstrap(adminData, {
    clock,
    ...(config.api.bootstrapRealm ? { realm: config.api.bootstrapRealm } : {}),
    ...(config.api.bootstrapApiKey ? { apiKey: config.api.bootstrapApiKey } : {}),
    trustedPeers: config.accounts.bootstrapTrustedPeers,
  });
  if (boot.created) {
    accounts.refresh();
    accountServices.trustedPeers.index.refresh();
    // The key goes to standard error as plain text, once, so the command pastes as it is; the JSON log, which is
    // kept and shipped, gets the account but never the key.
    process.stderr.write(firstStartMessage(boot, { host: config.api.host, port: api.port, secure: api.secure }));
    logger.info({ accountId: boot.accountId, realm: boot.realm }, 'first start: master account and API key created (the key and a token command are on standard error)');
  } else if (boot.suppliedKeyUnused) {
    const text = unusedBootstrapKeyMessage(config.dataDir);
    process.stderr.write(`warning: ${text}\n`);
    logger.warn({ variable: 'PISTON_BOOTSTRAP_API_KEY', recovery: createApiKeyCommand(config.dataDir) }, text);
  }
  const sipPort = stack.portOf(UDP) ?? config.sip.port;
  const tlsPort = stack.portOf(TLS);
  const wsPort = stack.portOf(WS);
  const wssPort = stack.portOf(WSS);
  logger.info(
    { sip: { hosts: config.sip.hosts, port: sipPort, tlsPort, wsPort, wssPort }, api: { host: config.api.host, port: api.port }, node: config.nodeName },
    'ready',
  );
  const warmUp = startWarmUp(config.warmUpRounds, registry, logger, () => performance.now() - lastRequestAt < WARM_UP_QUIET_MS);

  return {
    sipPort,
    apiPort: api.port,
    store,
    notifier,
    presentity,
    tlsPort,
    wsPort,
    wssPort,
    reloadTls() {
      let reloaded = true;
      if (api.secure) {
        const result = api.reloadTls();
        if (result.reloaded) logger.info({ cert: config.api.tls?.certFile }, 'admin API certificate reloaded');
        else {
          logger.error({ reason: result.error }, 'admin API certificate not reloaded; the old one stays in use');
          reloaded = false;
        }
      }
      if (!tlsFiles) return reloaded;
      try {
        stack.transports?.reloadTls(readTlsCredentials(tlsFiles));
        logger.info({ cert: tlsFiles.certPath }, 'tls certificate reloaded');
        return reloaded;
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'tls certificate reload failed, the previous certificate stays in use');
        return false;
      }
    },
    async stop() {
      warmUp.stop();
      stack.stopAccepting();
      sipListening = false;
      await api.close();
      await cluster?.stop().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'cluster stop failed'));
      // Drains, writes CSeq/version exactly as last sent (the next start continues without a gap), closes the sockets.
      await stack.stop({ drainMs: DRAIN_LIMIT_MS });
      history.stop();
      historyRepository.close();
      store.close();
      storeOpen = false;
      mkdirSync(config.dataDir, { recursive: true });
      writeFileSync(cleanMark, new Date(clock.now()).toISOString() + '\n');
      logger.info({}, 'stopped');
    },
  };
}

/** Which SIP listener a listen error belongs to, by the port it names: TLS, WS and WSS have variables of their own. */
function sipListenTarget(config: Config, err: unknown): ListenTarget {
  const port = (err as { port?: unknown }).port;
  const base = { hostVariable: 'PISTON_SIP_HOST', host: config.sip.hosts.join(',') };
  const others: [number | undefined, string, string][] = [
    [config.sip.tls?.port, 'SIP over TLS', 'PISTON_SIP_TLS_PORT'],
    [config.sip.websocket.wsPort, 'SIP over WebSocket', 'PISTON_SIP_WS_PORT'],
    [config.sip.tls ? config.sip.websocket.wssPort : undefined, 'SIP over secure WebSocket', 'PISTON_SIP_WSS_PORT'],
  ];
  for (const [p, service, portVariable] of others) {
    if (p !== undefined && p !== 0 && p === port && p !== config.sip.port) return { ...base, service, portVariable, port: p };
  }
  return { ...base, service: 'SIP (UDP and TCP)', portVariable: 'PISTON_SIP_PORT', port: config.sip.port };
}

/**
 * Warm-up slices last about 5 ms, so a message waits at most that long behind one, and they wait while requests
 * arrive (`busy`): a load test that starts at once must not find a second of warm-up competing with it (UDP
 * SUBSCRIBE rate steps at 3,250-4,000/s failed in their first 3 s that way). Each round runs the packages' read/render
 * path (src/events/warm-up.ts) and a round of the SIP rehearsal (src/main-rehearsal.ts), which say why.
 */
function startWarmUp(rounds: number, registry: EventPackageRegistry, logger: Logger, busy: () => boolean): { stop(): void } {
  const started = performance.now();
  const rehearsal = new Rehearsal(registry);
  const run = runInIdleSlices(
    rounds,
    (i) => {
      try {
        warmUpRound(registry, i);
        rehearsal.round(i);
      } catch (err) {
        // A warm-up failure costs speed only; say so once and stop.
        logger.warn({ err: (err as Error).message, round: i }, 'warm-up stopped');
        run.stop();
      }
    },
    5,
    { busy, retryMs: 100 },
  );
  void run.done.then(() => {
    rehearsal.dispose();
    logger.debug({ rounds, ms: Math.round(performance.now() - started), rehearsed: rehearsal.done }, 'warm-up done');
  });
  return run;
}

/** Runs the server until SIGINT/SIGTERM. `npm start` enters through src/start.ts, which reads the configuration first. */
export async function main(given?: Config): Promise<void> {
  let config: Config;
  try {
    config = given ?? loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  // Before anything is allocated in earnest: how much garbage V8 may let pile up between full collections.
  if (config.heapGrowingPercent > 0) setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
  const logger = pino({ level: config.logLevel, base: { node: config.nodeName } });
  let server: RunningServer;
  try {
    server = await startServer(config, logger);
  } catch (err) {
    const storeErr = storeStartError(err, config.dataDir);
    if (err instanceof TlsCredentialsError) {
      logger.fatal({ reason: err.message }, 'start failed');
      process.stderr.write(`cannot start: ${err.message}\n`);
    } else if (err instanceof ListenError) {
      // The environment's fault, named by its variable: one plain line, no stack trace.
      logger.fatal({ variable: err.variable, reason: err.message }, 'start failed');
      process.stderr.write(`cannot start: ${err.message}\n`);
    } else if (storeErr) {
      // An empty, lost or unreadable database: the message names the file and what to do; a stack would bury it.
      logger.fatal({ code: storeErr.code, reason: storeErr.message }, 'start failed');
      process.stderr.write(`cannot start: ${storeErr.message}\n`);
    } else {
      logger.fatal({ err }, 'start failed');
    }
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // SIGHUP: renewed certificates (SIP TLS/WSS and the admin API's) without a restart or dropped connections.
  process.on('SIGHUP', () => {
    if (!stopping) server.reloadTls();
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
