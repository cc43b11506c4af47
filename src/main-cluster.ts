import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from './config/config.js';
import { describeClusterTarget, type ClusterConfig } from './config/cluster-config.js';
import { ClusterNode } from './cluster/node/index.js';
import type { ClusterEngine } from './cluster/engine-port.js';
import type { RedisClusterEngineOptions } from './cluster/redis/redis-cluster-engine.js';
import type { Clock } from './lib/clock.js';
import type { Logger } from './lib/logger.js';
import type { PresenceStack } from './stack/index.js';
import type { ClusterSubscriptionList, PresenceControl } from './api/api-deps.js';
import { ClusterDirectoryPart } from './cluster/directory/directory-part.js';
import { SEQUENCE_LEASE } from './subscriptions/notifier.js';
import type { AdminDataStore } from './store/ports.js';
import { AdminMirror } from './cluster/node/admin/admin-mirror.js';
import { MirroredAdminStore } from './cluster/node/admin/mirrored-admin-store.js';
import type { AdminSyncEngine } from './cluster/admin-sync-port.js';
import { SharedSecretPart } from './cluster/node/shared-secret-part.js';
import { loadNonceSecret, NONCE_SECRET_FILE, parseNonceSecret, saveNonceSecret, type NonceService } from './security/index.js';

/**
 * In cluster mode the admin store every service is built over: the local one, with its writes mirrored to the
 * cluster once `wireCluster` attaches the admin part (issue 22 item 3). Single node: the local store itself.
 */
export function clusterAdminStore(config: Config, local: AdminDataStore): AdminDataStore {
  return config.cluster ? new MirroredAdminStore(local) : local;
}

/**
 * Cluster mode's wiring (cluster.md), used by main.ts only when PISTON_CLUSTER_REDIS_URL is set: the Redis adapter
 * (ioredis is loaded here, on demand, so a single node never loads it), the node's shared presence state over the
 * stack, its gauges, and what the admin API uses in place of the single node's. Further cluster pieces (the
 * subscription directory, heartbeats, janitor) attach to `node` (ClusterNode.attach) before `start`.
 */
export interface ClusterWiring {
  readonly node: ClusterNode;
  /** The admin API's subscription list: the whole cluster's, from the directory (stalker = the node). */
  readonly clusterList: ClusterSubscriptionList;
  /** The admin API's presence control: reads from the node's copy, set/reset shared. */
  control(local: PresenceControl): PresenceControl;
  start(): Promise<void>;
  /**
   * Before main.ts's admin bootstrap: on a first start (no account in the local store) waits until the admin data is
   * read from Redis, at most PISTON_CLUSTER_START_WAIT_S; then the bootstrap decides (nothing to make when Redis had
   * accounts). Past the wait the node starts as an island, as before, and says so.
   */
  beforeBootstrap(): Promise<void>;
  stop(): Promise<void>;
}

/** How often a first start looks whether the admin data arrived. */
const START_WAIT_POLL_MS = 250;
/** The engine's name of the SIP digest nonce secret every node shares. */
const NONCE_SECRET_NAME = 'sip-nonce-secret';

export async function wireCluster(
  config: Config & { cluster: ClusterConfig },
  stack: PresenceStack,
  deps: {
    clock: Clock;
    logger: Logger;
    metrics: Registry;
    /** The store from clusterAdminStore, and what refreshes the caches over it after other nodes' changes. */
    admin?: { store: AdminDataStore; onApplied: () => void };
    /** Digest on: the nonces made by sipNonceService, to adopt the secret every node shares. */
    nonces?: NonceService;
  },
): Promise<ClusterWiring> {
  const log = deps.logger.child({ module: 'cluster' });
  const engine = await openEngine(config.cluster, log);
  const node = new ClusterNode({
    engine,
    presentity: stack.presentity,
    feed: stack.feed,
    watched: () => watchedResources(stack),
    isWatched: (resource) => stack.notifier.isWatched(resource),
    node: config.nodeName,
    clock: deps.clock,
    logger: deps.logger,
  });
  let admin: AdminMirror | undefined;
  if (deps.admin?.store instanceof MirroredAdminStore) {
    const adminEngine = await openAdminEngine(config.cluster, log);
    admin = new AdminMirror({ store: deps.admin.store, engine: adminEngine, onApplied: deps.admin.onApplied });
    node.attach(admin);
    new Gauge({
      name: 'piston_cluster_admin_pending',
      help: 'Cluster mode: admin changes (accounts, devices, keys, tokens, trusted peers) made here and not yet in Redis',
      registers: [deps.metrics],
      collect() {
        this.set(admin?.pending ?? 0);
      },
    });
  }
  new Gauge({
    name: 'piston_cluster_connected',
    help: 'Cluster mode: 1 while the shared engine (Redis) answers, 0 in island mode (local SIP goes on)',
    registers: [deps.metrics],
    collect() {
      this.set(node.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'piston_cluster_outbox',
    help: 'Cluster mode: resources whose local changes wait for the shared engine',
    registers: [deps.metrics],
    collect() {
      this.set(node.outboxSize);
    },
  });
  // Counted in plain numbers by the change reader and the outbox, copied here at scrape time only.
  new Counter({
    name: 'piston_cluster_changes_total',
    help: 'Cluster mode: change stream entries read, by what became of them (applied, refreshed, own, outbox, unwatched, older, waited, gaps)',
    labelNames: ['outcome'],
    registers: [deps.metrics],
    collect() {
      this.reset();
      for (const [outcome, n] of Object.entries(node.changeCounts)) this.inc({ outcome }, n);
    },
  });
  new Counter({
    name: 'piston_cluster_outbox_dropped_total',
    help: 'Cluster mode: outbox entries dropped because it was full (their changes stayed local until the next one)',
    registers: [deps.metrics],
    collect() {
      this.reset();
      this.inc(node.outboxDropped);
    },
  });
  // The subscription directory (mirror, heartbeat, janitor, cluster-wide list): started with the node.
  const directory = new ClusterDirectoryPart({
    feed: stack.feed,
    liveRecords: () => stack.notifier.liveRecords(),
    info: { sip: `${config.sip.hosts[0] ?? ''}:${config.sip.port}`, api: `${config.api.host}:${config.api.port}` },
    cseqStep: SEQUENCE_LEASE,
    ...(config.cluster.janitorGraceS === undefined ? {} : { janitor: { graceMs: config.cluster.janitorGraceS * 1000 } }),
  });
  node.attach(directory);
  const nonces = deps.nonces;
  if (nonces) {
    // The nonce secret every node shares (SET NX in Redis: the first node's own becomes the cluster's), kept in the
    // data directory too, so a restart while Redis is unreachable still issues nonces the other nodes accept.
    node.attach(
      new SharedSecretPart({
        name: NONCE_SECRET_NAME,
        local: loadNonceSecret(config.dataDir).toString('hex'),
        adopt: (hex) => {
          const secret = parseNonceSecret(hex);
          if (!secret) return false;
          nonces.rekey(secret);
          try {
            saveNonceSecret(config.dataDir, secret);
          } catch (err) {
            log.warn({ err: (err as Error).message, file: NONCE_SECRET_FILE }, 'the shared nonce secret is in use but could not be kept in the data directory');
          }
          return true;
        },
      }),
    );
  }
  log.info({ redis: describeClusterTarget(config.cluster.redis), node: config.nodeName, janitorGraceS: config.cluster.janitorGraceS }, 'cluster mode');
  return {
    node,
    clusterList: directory.clusterList,
    control: (local) => ({
      describe: (r) => local.describe(r),
      domainsOf: (u) => local.domainsOf(u),
      reset: (r) => node.control.reset(r),
      setManualState: (r, s) => node.control.setManualState(r, s),
    }),
    start: () => node.start(),
    beforeBootstrap: async () => {
      const store = deps.admin?.store;
      if (!admin || !store || admin.isSynced || store.accounts.loadAll().length > 0) return;
      const waitMs = (config.cluster.startWaitS ?? 30) * 1000;
      const since = deps.clock.now();
      log.info({ waitS: waitMs / 1000 }, 'first start: waiting for the cluster engine before making a master account');
      while (!admin.isSynced && deps.clock.now() - since < waitMs) {
        await new Promise<void>((resolve) => deps.clock.setTimer(START_WAIT_POLL_MS, resolve));
      }
      if (admin.isSynced) log.info({ waitedMs: deps.clock.now() - since }, 'first start: admin data read from the cluster engine');
      else log.warn({ waitedS: waitMs / 1000, variable: 'PISTON_CLUSTER_START_WAIT_S' }, 'first start without the cluster engine: starting as an island; a master account made here joins the cluster when Redis answers');
    },
    stop: () => node.stop(),
  };
}

async function openEngine(cluster: ClusterConfig, log: Logger): Promise<ClusterEngine> {
  const { RedisClusterEngine } = await import('./cluster/redis/redis-cluster-engine.js');
  return new RedisClusterEngine(engineOptions(cluster, log));
}

/** The admin data's own connections to the same Redis (cluster/redis/redis-admin-sync.ts). */
async function openAdminEngine(cluster: ClusterConfig, log: Logger): Promise<AdminSyncEngine> {
  const { RedisAdminSync } = await import('./cluster/redis/redis-admin-sync.js');
  return new RedisAdminSync(engineOptions(cluster, log));
}

function engineOptions(cluster: ClusterConfig, log: Logger): RedisClusterEngineOptions {
  let lastError = '';
  const onConnectionError = (err: Error): void => {
    // ioredis repeats a refused connection at every retry: log each distinct error once in a row.
    if (err.message === lastError) return;
    lastError = err.message;
    log.warn({ err: err.message }, 'cluster engine connection error');
  };
  const target = cluster.redis;
  if (target.kind === 'url') return { url: target.url, onConnectionError };
  return {
    onConnectionError,
    redis: {
      sentinels: target.sentinels,
      name: target.name,
      db: target.db,
      ...(target.password ? { password: target.password, sentinelPassword: target.password } : {}),
    },
  };
}

function* watchedResources(stack: PresenceStack): Iterable<string> {
  for (const rec of stack.notifier.liveRecords()) yield `${rec.resource}@${rec.domain}`;
}
