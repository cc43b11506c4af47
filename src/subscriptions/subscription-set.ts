import { resourceKey, splitResourceKey, type ResourceKey } from '../presentity/resource-key.js';
import { cloneRecord } from '../store/clone.js';
import type { SubscriptionRecord } from '../store/records.js';
import type { LiveSubscription } from './live-subscription.js';

/**
 * The live subscriptions: by dialog id, and by watched resource for fan-out. Only indexes: the notifier decides when
 * a subscription enters or leaves (and writes the store, arms the expiry). The admin API reads it through the
 * notifier (`list`, `watchersOf`), which answers from here, not the store: the live set carries the last NOTIFY's
 * answer even before it is written behind.
 */
export class SubscriptionSet {
  private readonly subs = new Map<string, LiveSubscription>();
  /** Live subscriptions per watched resource (all events), for fan-out. */
  private readonly byResource = new Map<ResourceKey, Set<LiveSubscription>>();

  get size(): number {
    return this.subs.size;
  }

  get(id: string): LiveSubscription | undefined {
    return this.subs.get(id);
  }

  /** True while this very record is the live one for its dialog (not one removed or replaced since). */
  isLive(rec: LiveSubscription): boolean {
    return this.subs.get(rec.id) === rec;
  }

  values(): IterableIterator<LiveSubscription> {
    return this.subs.values();
  }

  /** The live set of a resource's watchers (every event package), not a copy: removal while iterating is safe. */
  watchers(resource: ResourceKey): Set<LiveSubscription> | undefined {
    return this.byResource.get(resource);
  }

  add(rec: LiveSubscription): void {
    this.subs.set(rec.id, rec);
    const key = resourceKey(rec.resource, rec.domain);
    let watchers = this.byResource.get(key);
    if (!watchers) this.byResource.set(key, (watchers = new Set()));
    watchers.add(rec);
  }

  /** False when the record was not the live one. */
  remove(rec: LiveSubscription): boolean {
    if (this.subs.get(rec.id) !== rec) return false;
    this.subs.delete(rec.id);
    const key = resourceKey(rec.resource, rec.domain);
    const watchers = this.byResource.get(key);
    if (watchers) {
      watchers.delete(rec);
      if (watchers.size === 0) this.byResource.delete(key);
    }
    return true;
  }

  /** Live subscriptions per event package (packages with none are absent), for metrics. */
  countByEvent(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const rec of this.subs.values()) counts[rec.event] = (counts[rec.event] ?? 0) + 1;
    return counts;
  }

  /**
   * Live subscriptions whose watched (lower-cased) domain passes `served`, optionally of one event package: an
   * account lists every domain it serves, not only its realm.
   */
  listWhere(served: (domain: string) => boolean, event?: string): SubscriptionRecord[] {
    const out: SubscriptionRecord[] = [];
    for (const rec of this.subs.values()) {
      if ((event === undefined || rec.event === event) && served(rec.domain)) out.push(cloneRecord.subscription(rec));
    }
    return out;
  }

  /**
   * Every live record as it is now: the records themselves, not copies, for a reader that must not change them and
   * reads each when it needs it (the admin list renders 100,000 in slices; copying them all cost as much again).
   */
  snapshot(): readonly Readonly<SubscriptionRecord>[] {
    return Array.from(this.subs.values());
  }

  /** The watched resources (`user@domain` keys) that have at least one live subscription. */
  resources(): IterableIterator<ResourceKey> {
    return this.byResource.keys();
  }

  /** Live subscriptions watching one resource (every event package). */
  watchersOf(resource: ResourceKey): SubscriptionRecord[] {
    const { user, domain } = splitResourceKey(resource);
    const watchers = this.byResource.get(resourceKey(user, domain));
    if (!watchers) return [];
    return [...watchers].map((rec) => cloneRecord.subscription(rec));
  }
}
