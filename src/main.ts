import { pathToFileURL } from 'node:url';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig, ConfigError, type Config } from './config/config.js';
import { SystemClock, type Clock } from './lib/clock.js';
import type { Logger } from './lib/logger.js';
import { SipTransport } from './sip/transport/index.js';
import { TransactionLayer } from './sip/transaction/index.js';
import { UserAgentCore } from './sip/ua/user-agent-core.js';
import { createDefaultRegistry } from './events/default-registry.js';
import { openSqliteStore } from './store/sqlite/sqlite-store.js';
import type { PresenceStore } from './store/ports.js';
import { ListAccountResolver } from './accounts/account-resolver.js';
import { PresentityService } from './presentity/presentity-service.js';
import { Notifier } from './subscriptions/notifier.js';

/**
 * The composition root: reads the configuration, builds every service with its concrete dependencies, starts the
 * SIP listener, and stops it all cleanly. The only module that wires concrete classes together.
 */

export interface RunningServer {
  readonly sipPort: number;
  readonly store: PresenceStore;
  readonly notifier: Notifier;
  readonly presentity: PresentityService;
  stop(): Promise<void>;
}

/**
 * Sequence headroom after a crash: the store writes behind by up to ~100 ms, so the last CSeq/version of a busy
 * subscription may be lost with a kill -9. One NOTIFY per subscription is in flight at a time, so 100 ms cannot hold
 * more than a handful; 32 is ample and small enough that a phone sees only a version gap and refreshes.
 */
const CRASH_HEADROOM = 32;
const CLEAN_MARK = 'clean-shutdown';

/** How long a clean shutdown waits for transactions in flight (a NOTIFY's Timer F is 32 s; we do not wait that long). */
const DRAIN_LIMIT_MS = 5000;

export async function startServer(config: Config, logger: Logger, clock: Clock = new SystemClock()): Promise<RunningServer> {
  const store = openSqliteStore({ dataDir: config.dataDir, clock, logger: logger.child({ module: 'store' }) });
  // A clean stop leaves a mark; its absence next to an existing database means the last run crashed.
  const cleanMark = join(config.dataDir, CLEAN_MARK);
  const crashed = !existsSync(cleanMark) && store.subscriptions.count() > 0;
  rmSync(cleanMark, { force: true });
  logger.info({ store: store.ready, crashed }, 'store open');
  const expiry = {
    min: config.subscriptions.minExpires,
    max: config.subscriptions.maxExpires,
    default: config.subscriptions.defaultExpires,
  };
  const registry = createDefaultRegistry({ expires: { dialog: expiry, presence: expiry, 'message-summary': expiry } });
  const accounts = new ListAccountResolver(() => [], config.accounts.defaultAccountForUnknownDomains);

  const transport = new SipTransport({
    hosts: config.sip.hosts,
    port: config.sip.port,
    maxDatagramBytes: config.sip.maxMessageBytes,
    maxMessageBytes: config.sip.maxMessageBytes,
    maxConnections: config.sip.maxConnections,
    maxBufferedBytes: config.sip.maxBufferedBytes,
    tcpIdleMs: config.sip.tcpIdleMs,
    clock,
    logger,
  });
  const transactions = new TransactionLayer(transport, {
    clock,
    logger,
    timers: { t1: config.sip.t1, t2: config.sip.t2, t4: config.sip.t4 },
  });
  const presentity = new PresentityService({ store, registry, accounts, clock, logger, minPublishExpires: config.publications.minExpires });
  const notifier = new Notifier({
    store,
    registry,
    presentity,
    accounts,
    channel: transactions,
    clock,
    logger,
    nodeName: config.nodeName,
    allDialogs: config.subscriptions.allDialogs,
    ...(config.sip.publicHost ? { publicHost: config.sip.publicHost } : {}),
  });
  const ua = new UserAgentCore({
    logger: logger.child({ module: 'sip-ua' }),
    allowEvents: () => registry.names(),
    accept: () => registry.contentTypes(),
  });
  ua.register('SUBSCRIBE', (incoming) => notifier.handleSubscribe(incoming));
  ua.register('PUBLISH', (incoming) => presentity.handlePublish(incoming));

  const started = clock.now();
  presentity.restore();
  notifier.restore({ headroom: crashed ? CRASH_HEADROOM : 0 });
  logger.info({ subscriptions: notifier.count(), ms: clock.now() - started }, 'state restored');

  let accepting = true;
  transactions.onRequest((req, tx) => {
    if (!accepting) return; // shutting down: the peer retransmits, and reaches us again after the restart
    ua.receive(req, tx.flow, { respond: (res) => void tx.respond(res) });
  });
  await transport.start();
  logger.info({ sip: { hosts: config.sip.hosts, port: transport.port }, node: config.nodeName }, 'ready');

  return {
    sipPort: transport.port,
    store,
    notifier,
    presentity,
    async stop() {
      accepting = false;
      const deadline = clock.now() + DRAIN_LIMIT_MS;
      while ((notifier.inFlight > 0 || transactions.clientTransactionCount > 0) && clock.now() < deadline) {
        await new Promise<void>((res) => clock.setTimer(50, res));
      }
      notifier.dispose();
      presentity.dispose();
      transactions.close();
      await transport.close();
      store.close();
      mkdirSync(config.dataDir, { recursive: true });
      writeFileSync(cleanMark, new Date(clock.now()).toISOString() + '\n');
      logger.info({}, 'stopped');
    },
  };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { node: config.nodeName } });
  let server: RunningServer;
  try {
    server = await startServer(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'start failed');
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
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
