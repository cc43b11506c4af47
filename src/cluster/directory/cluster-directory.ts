/**
 * The directory side of a cluster node in one piece, for main.ts to start and stop (cluster.md §6-§8): the mirror of
 * this node's subscriptions, its heartbeat (whose recovery re-mirrors when the engine's epoch changed: an engine back
 * from a data loss holds nothing),
 * the janitor of dead nodes' entries, and the cluster-wide list for the admin API.
 */
import { randomUUID } from 'node:crypto';
import type { PresenceFeed } from '../../feed/presence-feed.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { JsonValue, SubscriptionRecord } from '../../store/records.js';
import type { ClusterEngine, DirectoryEntry } from '../engine-port.js';
import { ClusterListing, DOMAINS_INFO, MAX_ANNOUNCED_DOMAINS } from './cluster-listing.js';
import { DirectoryJanitor } from './directory-janitor.js';
import { NodeHeartbeat } from './node-heartbeat.js';
import { SubscriptionMirror, type MirrorStatus, type SubscriptionMirrorOptions } from './subscription-mirror.js';

export interface ClusterDirectoryOptions {
  engine: ClusterEngine;
  /** `PISTON_NODE_NAME`. */
  node: string;
  clock: Clock;
  logger: Logger;
  /** The presence feed the notifier emits subscription events into. */
  feed: PresenceFeed;
  /** `Notifier.liveRecords`. */
  liveRecords: () => readonly Readonly<SubscriptionRecord>[];
  /** What the heartbeat announces (SIP and API addresses); the directory adds `domains` (cluster-listing.ts). */
  info: { [key: string]: JsonValue };
  /** The NOTIFY body the list shows for another node's subscription (ClusterListing). */
  renderBody?: (entry: DirectoryEntry) => string;
  /** The notifier's SEQUENCE_LEASE. */
  cseqStep?: number;
  /** Overrides for tests (shorter periods). */
  mirror?: Partial<Pick<SubscriptionMirrorOptions, 'flushEveryMs' | 'batchSize' | 'maxPending' | 'retryEveryMs' | 'feedCapacity'>>;
  heartbeat?: { everyMs?: number; ttlMs?: number };
  janitor?: { everyMs?: number; graceMs?: number };
  listTimeoutMs?: number;
}

export interface ClusterDirectory {
  /** Give it to the admin API as `ApiDeps.clusterList`. */
  readonly listing: ClusterListing;
  /** Writes every subscription again, unconditionally. */
  remirror(): void;
  /**
   * The node saw a new epoch (the engine lost its data): beats at once, so the registry lists this node again before
   * its re-mirrored entries arrive, and re-mirrors unless the heartbeat's recovery already did for that epoch.
   */
  epochChanged(): void;
  /** The node left island mode: beats at once, so the list shows its entries again without waiting for the period. */
  returned(): void;
  /** For /healthz and metrics. */
  status(): { mirror: MirrorStatus; heartbeat: { ok: boolean; beats: number } };
  /** Stops beating, sweeping and mirroring (pending writes are sent once, best effort). */
  stop(): Promise<void>;
}

/** Builds and starts the pieces; the first re-mirror and the first beat leave at once. */
export function startClusterDirectory(opts: ClusterDirectoryOptions): ClusterDirectory {
  const { engine, node, clock, logger } = opts;
  const mirror = new SubscriptionMirror({
    engine,
    node,
    clock,
    logger,
    liveRecords: opts.liveRecords,
    ...(opts.cseqStep === undefined ? {} : { cseqStep: opts.cseqStep }),
    ...opts.mirror,
  });
  const heartbeat = new NodeHeartbeat({
    engine,
    node,
    clock,
    logger,
    info: () => ({ ...opts.info, [DOMAINS_INFO]: mirror.watchedDomains(MAX_ANNOUNCED_DOMAINS) }),
    onRecovered: () => void checkEpoch(),
    ...opts.heartbeat,
  });
  const janitor = new DirectoryJanitor({
    engine,
    node,
    clock,
    logger,
    ...(opts.heartbeat?.ttlMs === undefined ? {} : { beatTtlMs: opts.heartbeat.ttlMs }),
    ...opts.janitor,
  });
  const listing = new ClusterListing({
    engine,
    node,
    clock,
    logger,
    local: opts.liveRecords,
    ...(opts.renderBody ? { renderBody: opts.renderBody } : {}),
    ...(opts.listTimeoutMs === undefined ? {} : { timeoutMs: opts.listTimeoutMs }),
  });
  // The epoch in force when last read: a beat that succeeds again after failures re-mirrors only if the engine lost
  // its data meanwhile (a new epoch), not after every hiccup (a full re-mirror of 100,000 costs ~30 s of CPU). The
  // node's own epoch watch (epochChanged) goes through it too, so one loss seen both ways re-mirrors once.
  let known: string | undefined;
  /** `atStart`: the read at start only learns the epoch, since the mirror's start re-mirrors anyway. */
  const checkEpoch = async (atStart = false): Promise<void> => {
    try {
      const epoch = await engine.epoch(randomUUID());
      if (epoch !== known) {
        const was = known;
        known = epoch;
        if (atStart) return;
        if (was !== undefined) logger.warn({ node, was, now: epoch }, 'cluster engine has a new epoch: re-mirroring subscriptions');
        mirror.remirror();
      }
    } catch {
      // Still away: the next recovery asks again; writes lost meanwhile are the mirror's own failure path.
    }
  };
  mirror.start(opts.feed);
  void checkEpoch(true);
  heartbeat.start();
  janitor.start();
  return {
    listing,
    remirror: () => mirror.remirror(),
    epochChanged: () => {
      heartbeat.beatNow();
      void checkEpoch();
    },
    returned: () => heartbeat.beatNow(),
    status: () => ({ mirror: mirror.status(), heartbeat: heartbeat.status() }),
    stop: async () => {
      await janitor.stop();
      await heartbeat.stop();
      await mirror.close();
    },
  };
}
