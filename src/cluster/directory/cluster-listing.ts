/**
 * The cluster-wide subscription list behind `GET …/presence` (cluster.md §7 "Admin list"): this node's subscriptions
 * exact, from its own live records, and every other live node's from the directory, `stalker` being the owner's name.
 * Entries of a node whose heartbeat lapsed are hidden at once (the janitor removes them later). When the engine does
 * not answer within `timeoutMs`, the answer is this node's subscriptions alone, marked `partial` (the API then says
 * `timeout: true`, Kazoo's flag for a partial answer).
 */
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { SubscriptionRecord } from '../../store/records.js';
import type { ClusterEngine, DirectoryEntry } from '../engine-port.js';
import { listedRecordOf } from './directory-record.js';

type Listed = Readonly<SubscriptionRecord>;

export interface ClusterListingOptions {
  engine: ClusterEngine;
  node: string;
  clock: Clock;
  logger: Logger;
  /** This node's live subscriptions (`Notifier.liveRecords`). */
  local: () => readonly Listed[];
  /**
   * The NOTIFY body to show for a remote subscription, rendered from the shared state (cluster.md §7), asked only when
   * the list writes that entry. Without it the body shows as `undefined`, as for a subscription not yet notified.
   */
  renderBody?: (entry: DirectoryEntry) => string;
  /** The longest the list waits for the engine (default 2000 ms). */
  timeoutMs?: number;
}

export interface ListedSubscriptions {
  /** Local ones first (the live records), then the remote ones by node and id. */
  records: readonly Listed[];
  /** Only this node's subscriptions could be listed. */
  partial: boolean;
}

/** Which part of the directory to read: every node's entries, or only these domains' (a realm-only account). */
export type ListingScope = { domains: readonly string[] } | undefined;

export class ClusterListing {
  private readonly logger: Logger;

  constructor(private readonly opts: ClusterListingOptions) {
    this.logger = opts.logger.child({ module: 'cluster-listing' });
  }

  /** Every live subscription of the cluster (the caller filters by account and event as for a single node). */
  async list(scope?: ListingScope): Promise<ListedSubscriptions> {
    const local = this.opts.local();
    if (!this.opts.engine.connected) return { records: local, partial: true };
    let remote: DirectoryEntry[];
    try {
      remote = await this.withTimeout(this.remoteEntries(scope));
    } catch (err) {
      this.logger.warn({ err }, 'cluster directory unreachable: the list shows this node only');
      return { records: local, partial: true };
    }
    const render = this.opts.renderBody;
    const records: Listed[] = local.slice();
    for (const entry of remote) records.push(listedRecordOf(entry, render ? () => render(entry) : () => 'undefined'));
    return { records, partial: false };
  }

  private async remoteEntries(scope: ListingScope): Promise<DirectoryEntry[]> {
    const { engine, node: self, clock } = this.opts;
    const now = clock.now();
    const alive = new Set((await engine.nodes()).filter((n) => n.alive && n.node !== self).map((n) => n.node));
    if (alive.size === 0) return [];
    const lists =
      scope === undefined
        ? await Promise.all([...alive].map((n) => engine.listNode(n, now)))
        : await Promise.all(scope.domains.map((d) => engine.listDomain(d, now)));
    const out: DirectoryEntry[] = [];
    for (const list of lists) for (const e of list) if (alive.has(e.node)) out.push(e);
    return out;
  }

  private withTimeout<T>(work: Promise<T>): Promise<T> {
    const ms = this.opts.timeoutMs ?? 2000;
    return new Promise<T>((resolve, reject) => {
      const timer = this.opts.clock.setTimer(ms, () => reject(new Error(`cluster directory did not answer within ${ms} ms`)));
      work.then(
        (v) => {
          timer.cancel();
          resolve(v);
        },
        (err: unknown) => {
          timer.cancel();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }
}
