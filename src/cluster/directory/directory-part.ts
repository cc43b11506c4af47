/**
 * The subscription directory as a part of the cluster node (branch `cluster`: `ClusterNode.attach`, whose `ClusterPart`
 * this satisfies structurally): started with the node's engine, name, clock and logger; re-mirrors on a new epoch. Its `clusterList` can be handed to the admin API before the node
 * starts: until then (and after stop) the list is this node's, marked partial.
 */
import type { PresenceFeed } from '../../feed/presence-feed.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { SubscriptionRecord } from '../../store/records.js';
import type { ClusterEngine } from '../engine-port.js';
import { startClusterDirectory, type ClusterDirectory, type ClusterDirectoryOptions } from './cluster-directory.js';
import type { ListedSubscriptions } from './cluster-listing.js';

/** What the part needs of the node's context (a subset of the node's NodeContext). */
export interface DirectoryContext {
  readonly engine: ClusterEngine;
  readonly node: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

export type DirectoryPartOptions = Omit<ClusterDirectoryOptions, 'engine' | 'node' | 'clock' | 'logger'>;

export class ClusterDirectoryPart {
  private directory: ClusterDirectory | null = null;

  /** For the admin API (`ApiDeps.clusterList`). */
  readonly clusterList = {
    list: (): Promise<ListedSubscriptions> =>
      this.directory ? this.directory.listing.list() : Promise.resolve({ records: this.opts.liveRecords(), partial: true }),
    watchedDomains: (user: string, skip: readonly string[]): Promise<string[]> =>
      this.directory ? this.directory.listing.watchedDomains(user, skip) : Promise.resolve([]),
    remoteWatchersOf: (resource: string): Promise<ListedSubscriptions> =>
      this.directory ? this.directory.listing.remoteWatchersOf(resource) : Promise.resolve({ records: [], partial: true }),
  };

  constructor(private readonly opts: DirectoryPartOptions) {}

  start(ctx: DirectoryContext): void {
    if (this.directory) return;
    this.directory = startClusterDirectory({ ...this.opts, engine: ctx.engine, node: ctx.node, clock: ctx.clock, logger: ctx.logger });
  }

  async stop(): Promise<void> {
    const directory = this.directory;
    this.directory = null;
    await directory?.stop();
  }

  /**
   * The engine answers again after island mode: beat at once (this node's beat lapsed meanwhile, hiding its entries,
   * which are still there). A mirror write that failed meanwhile already made the mirror re-mirror once the engine
   * answers, and a data loss shows as a new epoch (`onEpochChange`).
   */
  onReturn(): void {
    this.directory?.returned();
  }

  /** The engine lost its data: beat at once, and write every subscription again. */
  onEpochChange(): void {
    this.directory?.epochChanged();
  }

  status(): ReturnType<ClusterDirectory['status']> | null {
    return this.directory?.status() ?? null;
  }
}
