import { randomBytes } from 'node:crypto';
import type { PresenceFeed } from '../../feed/presence-feed.js';
import type { Clock } from '../../lib/clock.js';
import { withDeadline } from '../../lib/deadline.js';
import type { Logger } from '../../lib/logger.js';
import type { ClusterEngine } from '../engine-port.js';
import { ChangeReader, type ChangeCounts } from './change-reader.js';
import { ClusterLink } from './cluster-link.js';
import { ExpirySweeper } from './expiry-sweeper.js';
import type { NodeContext, NodePresentity } from './node-context.js';
import { Outbox } from './outbox.js';
import { Replica } from './replica.js';
import { ResourceLanes } from './resource-lanes.js';
import { SharedControl } from './shared-control.js';
import { SharedPublish } from './shared-publish.js';
import { Ticker } from './ticker.js';

/** How often the node asks the engine for its epoch: the liveness probe in island mode and the data-loss check. */
const EPOCH_CHECK_MS = 1000;
/**
 * At start, how long the node waits for the engine's first answer (the epoch) before it opens its listeners as an
 * island: one bounded step for the whole start, instead of each part's first call waiting out the 2 s command
 * timeout (and its retry) in turn, 7-17 s with Redis frozen or refused (issue 22).
 */
const START_PROBE_MS = 1500;
/** Resources whose changes may wait in the outbox (cluster.md §8: ~100k operations). */
const OUTBOX_LIMIT = 100_000;

export interface ClusterNodeOptions {
  engine: ClusterEngine;
  presentity: NodePresentity;
  /** The stack's feed: new subscriptions to a resource the node has not read yet trigger a read. */
  feed: PresenceFeed;
  /** Resources with a watcher on this node (`user@domain`), for resyncs. */
  watched: () => Iterable<string>;
  /**
   * Whether a resource has a watcher on this node: only those copies follow the stream (cluster.md §7). Absent:
   * every resource does (a full replica; the tests without a notifier use it).
   */
  isWatched?: (resource: string) => boolean;
  node: string;
  clock: Clock;
  logger: Logger;
  outboxLimit?: number;
  /** How long the start waits for the engine's first answer (default START_PROBE_MS). */
  startProbeMs?: number;
}

/**
 * A piece of cluster mode that starts and stops with the node (the subscription directory, heartbeats, janitor):
 * attached with `ClusterNode.attach` before `start`, given the node's context.
 */
export interface ClusterPart {
  start(ctx: NodeContext): void | Promise<void>;
  stop(): void | Promise<void>;
  /** The engine answers again after island mode. */
  onReturn?(): void;
  /** The engine lost its data (a new epoch): re-push what this part owns. */
  onEpochChange?(): void;
}

export type ClusterHealth = 'ok' | 'degraded';

/**
 * One node of a cluster (cluster.md): the shared presence state behind the presentity service's cluster seam. It
 * routes PUBLISH through compare-and-set (shared-publish.ts), reads the change stream into the node's copy
 * (change-reader.ts), sweeps publication expiry (expiry-sweeper.ts), keeps the admin API's changes and island mode's
 * in an outbox (outbox.ts), and watches the engine's epoch. The node's notifier is untouched: it hears every change
 * through the presentity service's feed, as on a single node, and NOTIFYs the dialogs it holds.
 */
export class ClusterNode {
  readonly context: NodeContext;
  /** The admin API's set/reset/mailbox, shared (hand it to the API in place of the presentity service's). */
  readonly control: SharedControl;
  private readonly outbox: Outbox;
  private readonly replica: Replica;
  private readonly reader: ChangeReader;
  private readonly sweeper: ExpirySweeper;
  private readonly publish: SharedPublish;
  private readonly epochTicker: Ticker;
  private readonly parts: ClusterPart[] = [];
  private epoch: string | undefined;
  private stopFeed: (() => void) | undefined;
  /** Parts started without waiting (the engine did not answer at start), awaited at stop. */
  private readonly starting: Promise<void>[] = [];

  constructor(private readonly opts: ClusterNodeOptions) {
    const logger = opts.logger.child({ module: 'cluster' });
    const link = new ClusterLink(logger, () => opts.clock.now());
    this.context = {
      engine: opts.engine,
      presentity: opts.presentity,
      node: opts.node,
      clock: opts.clock,
      logger,
      lanes: new ResourceLanes(),
      revs: new Map(),
      link,
    };
    this.outbox = new Outbox(this.context, opts.outboxLimit ?? OUTBOX_LIMIT);
    const waiting = (r: string): boolean => this.outbox.has(r);
    this.replica = new Replica(this.context, waiting);
    const isWatched = opts.isWatched;
    this.reader = new ChangeReader(this.context, this.replica, {
      skip: waiting,
      wanted: isWatched ? (r) => isWatched(r) : () => true,
      onGap: () => this.onGap(),
    });
    this.sweeper = new ExpirySweeper(this.context, waiting);
    this.publish = new SharedPublish(this.context, this.replica, this.outbox);
    this.control = new SharedControl(opts.presentity, this.outbox);
    this.epochTicker = new Ticker(opts.clock, EPOCH_CHECK_MS, () => this.checkEpoch());
    link.onReturn(() => void this.onReturn());
  }

  /** Adds a part (before `start`); it starts after the node's own pieces and stops before them. */
  attach(part: ClusterPart): void {
    this.parts.push(part);
  }

  /** Whether the engine answers (the `piston_cluster_connected` gauge). */
  get connected(): boolean {
    return this.context.link.up && this.context.engine.connected;
  }

  health(): ClusterHealth {
    return this.connected ? 'ok' : 'degraded';
  }

  /** Local changes waiting for the engine. */
  get outboxSize(): number {
    return this.outbox.size;
  }

  /** Outbox entries dropped because it was full (their changes stayed local). */
  get outboxDropped(): number {
    return this.outbox.dropped;
  }

  /** What became of the stream entries read so far (change-reader.ts), for metrics. */
  get changeCounts(): Readonly<ChangeCounts> {
    return this.reader.counts;
  }

  /**
   * Takes PUBLISH over, learns the epoch, replaces the node's restored state by the engine's, then reads the stream.
   * An engine that does not answer within START_PROBE_MS does not hold the start: the node begins as an island on
   * what SQLite restored (logged once, by the link), its parts are started without waiting for their first engine
   * calls, and the island-mode return (epoch probe every second → onReturn: parts, outbox, resync) joins it to the
   * cluster once the engine answers.
   */
  async start(): Promise<void> {
    const { presentity, logger, link } = this.context;
    presentity.routePublish(this.publish.handle);
    this.stopFeed = this.opts.feed.core((e) => {
      if (e.kind !== 'subscription-created') return;
      const resource = `${e.subscription.resource}@${e.subscription.domain}`;
      // A resource first watched here: read it, so the watcher's next NOTIFY shows what other nodes published.
      if (!this.context.revs.has(resource) && link.up) void this.replica.refreshInLane(resource);
    });
    const probeMs = this.opts.startProbeMs ?? START_PROBE_MS;
    const first = await withDeadline(this.opts.clock, this.context.engine.epoch(newEpoch()), probeMs, () => new Error(`no answer within ${probeMs} ms at start`)).then(
      (value) => ({ value }),
      (err: unknown) => ({ err }),
    );
    if ('value' in first) {
      this.epoch = first.value;
      try {
        // The engine's state wins over what SQLite restored: a publication removed cluster-wide while this node was
        // down must not come back from its disk. Only a data loss seen while running (checkEpoch) pushes local state.
        await this.syncAll(false);
      } catch (err) {
        link.failed(err);
      }
    } else {
      link.failed(first.err);
    }
    this.reader.start();
    this.sweeper.start();
    this.epochTicker.start();
    for (const part of this.parts) {
      const started = Promise.resolve().then(() => part.start(this.context));
      if (link.up) {
        await started;
        continue;
      }
      // Island at start: the part's first engine calls fail (or time out) in the background, and the part's own
      // failure path (or onReturn) takes it from there.
      this.starting.push(started.catch((err: unknown) => logger.warn({ err: (err as Error)?.message ?? String(err) }, 'cluster part start failed')));
    }
    logger.info({ node: this.context.node, epoch: this.epoch, connected: this.connected }, 'cluster node started');
  }

  async stop(): Promise<void> {
    for (const part of [...this.parts].reverse()) await part.stop();
    this.epochTicker.stop();
    this.sweeper.stop();
    this.stopFeed?.();
    this.context.presentity.routePublish(undefined);
    const reading = this.reader.stop();
    await this.context.engine.close();
    await reading;
    // With the engines closed, parts still starting in the background settle at once.
    await Promise.all(this.starting.splice(0));
  }

  /**
   * Every resource the node holds or watches, read again: newer shared state replaces the node's copy; with `push`,
   * what the engine does not hold at all but the node does (its restored or re-pushed state) goes to the outbox.
   */
  private async syncAll(push: boolean): Promise<void> {
    const { presentity, engine, lanes, revs } = this.context;
    const resources = new Set<string>([...presentity.resources(), ...this.opts.watched(), ...revs.keys()]);
    await Promise.all(
      [...resources].map((resource) =>
        lanes.run(resource, async () => {
          if (this.outbox.has(resource)) return;
          const snap = await engine.getResource(resource);
          const local = presentity.exportResource(resource);
          if (push && snap.rev === 0 && local !== null) {
            revs.set(resource, 0);
            this.outbox.add(resource, null);
          } else this.replica.install(snap);
        }),
      ),
    );
  }

  private async onReturn(): Promise<void> {
    // The parts first: each starts its own work (the directory's beat, so the list shows this node again at once;
    // the admin resync) rather than waiting for the outbox and the resync, which take seconds on a large node.
    for (const part of this.parts) part.onReturn?.();
    await this.checkEpoch();
    await this.outbox.flush();
    await this.syncAll(false).catch(() => undefined);
  }

  private async onGap(): Promise<void> {
    await this.checkEpoch();
    await this.syncAll(false).catch(() => undefined);
  }

  /**
   * The epoch probe: answers (island mode ends) or fails (island mode begins); a different epoch means the engine
   * lost its data (cluster.md §8), and everything this node holds is pushed again: revs start over, and the merge
   * in the outbox keeps what another node pushed first.
   */
  private async checkEpoch(): Promise<void> {
    const { engine, link, logger, revs } = this.context;
    let epoch: string;
    try {
      // A fresh candidate each time: one that equalled the old epoch would hide the loss it is meant to reveal.
      epoch = await engine.epoch(newEpoch());
    } catch (err) {
      link.failed(err);
      return;
    }
    link.succeeded();
    if (this.epoch === undefined) this.epoch = epoch;
    if (epoch === this.epoch) return;
    logger.warn({ was: this.epoch, now: epoch }, 'cluster engine lost its data: pushing this node\'s state again');
    this.epoch = epoch;
    revs.clear();
    // The parts before the push, for the same reason as on return: the directory beats and re-mirrors at once.
    for (const part of this.parts) part.onEpochChange?.();
    await this.syncAll(true).catch(() => undefined);
  }
}

function newEpoch(): string {
  return randomBytes(8).toString('hex');
}
