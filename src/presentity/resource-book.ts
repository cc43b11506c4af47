import type { AggregateInput, MailboxCounts, ManualState, Publication } from '../events/event-package.js';
import type { LivePublication } from './live-publication.js';
import { domainsOfUser, entityOf, type ResourceKey } from './resource-key.js';

/** Everything known about one resource. Present in the book only while something is set. */
export interface ResourceEntry {
  /** event package → etag → publication. */
  readonly publications: Map<string, Map<string, LivePublication>>;
  /** Per-package history as last returned by `applyPublication`. */
  history: Record<string, unknown>;
  manualState: ManualState | undefined;
  mailbox: MailboxCounts | undefined;
}

/**
 * The live, published and manual state of every resource, in memory. Plain data and lookups only: the services
 * around it decide what a change means, persist it and announce it. Entries that hold nothing are dropped at once, so
 * memory follows the resources that have state, not the ones that are watched.
 */
export class ResourceBook {
  private readonly entries = new Map<ResourceKey, ResourceEntry>();

  get(resource: ResourceKey): ResourceEntry | undefined {
    return this.entries.get(resource);
  }

  /** The entry of `resource`, created empty when missing. Call `prune` after a change that may have emptied it. */
  ensure(resource: ResourceKey): ResourceEntry {
    let entry = this.entries.get(resource);
    if (!entry) {
      entry = { publications: new Map(), history: {}, manualState: undefined, mailbox: undefined };
      this.entries.set(resource, entry);
    }
    return entry;
  }

  /** Drops the entry when nothing is left in it. */
  prune(resource: ResourceKey): void {
    const entry = this.entries.get(resource);
    if (entry && isEmptyEntry(entry)) this.entries.delete(resource);
  }

  delete(resource: ResourceKey): void {
    this.entries.delete(resource);
  }

  clear(): void {
    this.entries.clear();
  }

  /** True when the resource has publications, a manual state or mailbox counts: an aggregate worth caching. */
  hasLiveState(resource: ResourceKey): boolean {
    const e = this.entries.get(resource);
    return !!e && (e.publications.size > 0 || e.manualState !== undefined || e.mailbox !== undefined);
  }

  findPublication(resource: ResourceKey, event: string, etag: string): LivePublication | undefined {
    return this.entries.get(resource)?.publications.get(event)?.get(etag);
  }

  putPublication(p: LivePublication): void {
    const pubs = this.ensure(p.resource).publications;
    let byEtag = pubs.get(p.event);
    if (!byEtag) {
      byEtag = new Map();
      pubs.set(p.event, byEtag);
    }
    byEtag.set(p.etag, p);
  }

  removePublication(resource: ResourceKey, event: string, etag: string): void {
    const entry = this.entries.get(resource);
    const byEtag = entry?.publications.get(event);
    if (!entry || !byEtag) return;
    byEtag.delete(etag);
    if (byEtag.size === 0) entry.publications.delete(event);
    this.prune(resource);
  }

  /** Every live publication of a resource (all events), in no particular order. */
  /** How many live publications a resource holds, every package (the per-resource cap asks before each new one). */
  publicationCount(resource: ResourceKey): number {
    const entry = this.entries.get(resource);
    if (!entry) return 0;
    let n = 0;
    for (const byEtag of entry.publications.values()) n += byEtag.size;
    return n;
  }

  /** The highest arrival stamp among the resource's publications; 0 when it has none. */
  maxSeq(resource: ResourceKey): number {
    let max = 0;
    for (const byEtag of this.entries.get(resource)?.publications.values() ?? []) for (const p of byEtag.values()) if (p.seq > max) max = p.seq;
    return max;
  }

  publicationsOf(resource: ResourceKey): LivePublication[] {
    const entry = this.entries.get(resource);
    if (!entry) return [];
    const out: LivePublication[] = [];
    for (const byEtag of entry.publications.values()) for (const p of byEtag.values()) out.push(p);
    return out;
  }

  /** What the event packages aggregate (event-package.ts, AggregateInput). */
  aggregateInput(resource: ResourceKey, now: number): AggregateInput {
    const entry = this.entries.get(resource);
    const publications: Record<string, Publication[]> = {};
    if (!entry) return { entity: entityOf(resource), now, publications };
    for (const [event, byEtag] of entry.publications) publications[event] = [...byEtag.values()].map((p) => p.view);
    return {
      entity: entityOf(resource),
      now,
      publications,
      history: entry.history,
      manualState: entry.manualState,
      mailbox: entry.mailbox,
    };
  }

  /** Domains where `user` (lower-cased) has an entry: publications, manual state, mailbox counts or history. */
  domainsOf(user: string): string[] {
    return domainsOfUser(this.entries.keys(), user);
  }

  /** Every resource with an entry (the live stream's first snapshot). */
  keys(): IterableIterator<ResourceKey> {
    return this.entries.keys();
  }

  get size(): number {
    return this.entries.size;
  }
}

function isEmptyEntry(e: ResourceEntry): boolean {
  return e.publications.size === 0 && e.manualState === undefined && e.mailbox === undefined && Object.keys(e.history).length === 0;
}
