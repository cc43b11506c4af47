/**
 * The cluster-wide subscription list behind `GET …/presence` (cluster.md §7 "Admin list"): this node's subscriptions
 * exact, from its own live records, and every other live node's from the directory, `stalker` being the owner's name.
 * Entries of a node whose heartbeat lapsed are hidden at once (the janitor removes them later). When the engine does
 * not answer (its registry not within `timeoutMs`, or a read fails), the answer is this node's subscriptions alone,
 * marked `partial` (the API then says `timeout: true`, Kazoo's flag for a partial answer).
 */
import type { Clock } from '../../lib/clock.js';
import { withDeadline } from '../../lib/deadline.js';
import type { Logger } from '../../lib/logger.js';
import type { JsonValue, SubscriptionRecord } from '../../store/records.js';
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
  /**
   * The longest the list waits for the engine's first answer (the node registry; default 2000 ms). The reads that
   * follow take as long as the directory's size needs, each bounded by the engine's own command timeout: 10,000
   * remote entries took 2 s on a loaded machine.
   */
  timeoutMs?: number;
}

export interface ListedSubscriptions {
  /** Local ones first (the live records), then the remote ones by node and id. */
  records: readonly Listed[];
  /** Only this node's subscriptions could be listed. */
  partial: boolean;
}

/** The heartbeat info field where a node announces the domains its subscriptions watch (null: more than the cap). */
export const DOMAINS_INFO = 'domains';
/** Beyond this many domains a node announces none, and is read whole when its domains are asked for. */
export const MAX_ANNOUNCED_DOMAINS = 64;

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
      remote = await this.remoteEntries(scope);
    } catch (err) {
      this.logger.warn({ err }, 'cluster directory unreachable: the list shows this node only');
      return { records: local, partial: true };
    }
    const render = this.opts.renderBody;
    const records: Listed[] = local.slice();
    for (const entry of remote) records.push(listedRecordOf(entry, render ? () => render(entry) : () => 'undefined'));
    return { records, partial: false };
  }

  /**
   * The watchers of one resource (`user@domain`, as the admin API's look-up names it) on the other live nodes, from
   * the domain's index (read whole and filtered: its cost grows with the domain's remote subscriptions, as the realm's
   * list does). This node's own watchers are the caller's (exact, from its live records). Engine down or not answering:
   * none, `partial`.
   */
  async remoteWatchersOf(resource: string): Promise<ListedSubscriptions> {
    if (!this.opts.engine.connected) return { records: [], partial: true };
    const at = resource.lastIndexOf('@');
    const user = resource.slice(0, at).toLowerCase();
    const domain = resource.slice(at + 1).toLowerCase();
    const { engine, node: self, clock } = this.opts;
    try {
      const alive = new Set((await this.withTimeout(engine.nodes())).filter((n) => n.alive && n.node !== self).map((n) => n.node));
      if (alive.size === 0) return { records: [], partial: false };
      const render = this.opts.renderBody;
      const records: Listed[] = [];
      for (const e of await engine.listDomain(domain, clock.now())) {
        if (!alive.has(e.node) || (e.fields.resource ?? '').toLowerCase() !== user) continue;
        records.push(listedRecordOf(e, render ? () => render(e) : () => 'undefined'));
      }
      return { records, partial: false };
    } catch (err) {
      this.logger.warn({ err, resource }, "cluster directory unreachable: a resource's watchers on this node only");
      return { records: [], partial: true };
    }
  }

  /**
   * Domains where `user` (a resource's user part) is watched on another live node, for a reset or set given on this
   * node (the admin API's domainsFor: a phone on another node subscribed at `1001@192.0.2.1` must hear a reset of
   * 1001 too). Read from the indexes of the domains those nodes announce with their heartbeat, except `skip` (the
   * realm, which the caller always includes; its index is the largest); a node that announces no list is read whole.
   * When the engine fails: none (the realm's watchers on every node are still reached).
   */
  async watchedDomains(user: string, skip: readonly string[] = []): Promise<string[]> {
    if (!this.opts.engine.connected) return [];
    try {
      return await this.remoteDomainsOf(user.toLowerCase(), new Set(skip.map((d) => d.toLowerCase())));
    } catch (err) {
      this.logger.warn({ err, user }, 'cluster directory unreachable: a command reaches the other nodes at the realm only');
      return [];
    }
  }

  private async remoteDomainsOf(user: string, skip: ReadonlySet<string>): Promise<string[]> {
    const { engine, node: self, clock } = this.opts;
    const now = clock.now();
    const live = (await this.withTimeout(engine.nodes())).filter((n) => n.alive && n.node !== self);
    const alive = new Set(live.map((n) => n.node));
    const domains = new Set<string>();
    const whole: string[] = [];
    for (const status of live) {
      const announced = announcedDomains(status.info);
      if (announced === null) whole.push(status.node);
      else for (const d of announced) if (!skip.has(d)) domains.add(d);
    }
    const lists = await Promise.all([...[...domains].map((d) => engine.listDomain(d, now)), ...whole.map((n) => engine.listNode(n, now))]);
    const out = new Set<string>();
    for (const list of lists) for (const e of list) if (alive.has(e.node) && e.fields.resource === user && !skip.has(e.domain)) out.add(e.domain);
    return [...out].sort();
  }

  private async remoteEntries(scope: ListingScope): Promise<DirectoryEntry[]> {
    const { engine, node: self, clock } = this.opts;
    const now = clock.now();
    const alive = new Set((await this.withTimeout(engine.nodes())).filter((n) => n.alive && n.node !== self).map((n) => n.node));
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
    return withDeadline(this.opts.clock, work, ms, () => new Error(`cluster directory did not answer within ${ms} ms`));
  }
}

/** The domains a heartbeat announced, or null when it announced no list. */
function announcedDomains(info: JsonValue | null): string[] | null {
  if (info === null || typeof info !== 'object' || Array.isArray(info)) return null;
  const list = info[DOMAINS_INFO];
  return Array.isArray(list) && list.every((d) => typeof d === 'string') ? (list as string[]) : null;
}
