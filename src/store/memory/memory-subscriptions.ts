import { cloneRecord } from '../clone.js';
import type { SubscriptionRepository, WatcherKey } from '../ports.js';
import type { SubscriptionRecord } from '../records.js';
import { SetIndex } from './set-index.js';

const SEP = '\u0000';
const resourceKey = (resource: string, domain: string): string => resource + SEP + domain;
const watcherKey = (k: WatcherKey): string =>
  [k.watcherUser, k.watcherDomain, k.resource, k.domain, k.event].join(SEP);

/**
 * Subscriptions in a Map by dialog id, with secondary indexes for the lookups the notifier makes on hot paths
 * (fan-out by resource, replacement by watcher). Expiry queries scan: they run on a sweep, not per message.
 */
export class MemorySubscriptionRepository implements SubscriptionRepository {
  private readonly byId = new Map<string, SubscriptionRecord>();
  private readonly byResource = new SetIndex();
  private readonly byWatcher = new SetIndex();
  private readonly byDomain = new SetIndex();

  constructor(private readonly assertOpen: () => void) {}

  loadAll(): SubscriptionRecord[] {
    this.assertOpen();
    return [...this.byId.values()].map(cloneRecord.subscription);
  }

  get(id: string): SubscriptionRecord | undefined {
    this.assertOpen();
    const r = this.byId.get(id);
    return r && cloneRecord.subscription(r);
  }

  findByResource(resource: string, domain: string, event?: string): SubscriptionRecord[] {
    this.assertOpen();
    return this.collect(this.byResource.get(resourceKey(resource, domain)), event);
  }

  findByWatcher(key: WatcherKey): SubscriptionRecord[] {
    this.assertOpen();
    return this.collect(this.byWatcher.get(watcherKey(key)));
  }

  findByDomain(domain: string, event?: string): SubscriptionRecord[] {
    this.assertOpen();
    return this.collect(this.byDomain.get(domain), event);
  }

  findExpired(now: number): SubscriptionRecord[] {
    this.assertOpen();
    const out: SubscriptionRecord[] = [];
    for (const r of this.byId.values()) if (r.expiresAt <= now) out.push(cloneRecord.subscription(r));
    return out;
  }

  count(): number {
    this.assertOpen();
    return this.byId.size;
  }

  countByEvent(): Record<string, number> {
    this.assertOpen();
    const counts: Record<string, number> = {};
    for (const r of this.byId.values()) counts[r.event] = (counts[r.event] ?? 0) + 1;
    return counts;
  }

  put(record: SubscriptionRecord): void {
    this.assertOpen();
    this.unindex(record.id);
    const copy = cloneRecord.subscription(record);
    this.byId.set(copy.id, copy);
    this.byResource.add(resourceKey(copy.resource, copy.domain), copy.id);
    this.byWatcher.add(watcherKey(copy), copy.id);
    this.byDomain.add(copy.domain, copy.id);
  }

  delete(id: string): void {
    this.assertOpen();
    this.unindex(id);
  }

  deleteExpired(now: number): number {
    this.assertOpen();
    let n = 0;
    for (const r of [...this.byId.values()]) {
      if (r.expiresAt <= now) {
        this.unindex(r.id);
        n++;
      }
    }
    return n;
  }

  private unindex(id: string): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    this.byResource.remove(resourceKey(old.resource, old.domain), id);
    this.byWatcher.remove(watcherKey(old), id);
    this.byDomain.remove(old.domain, id);
  }

  private collect(ids: ReadonlySet<string>, event?: string): SubscriptionRecord[] {
    const out: SubscriptionRecord[] = [];
    for (const id of ids) {
      const r = this.byId.get(id);
      if (r && (event === undefined || r.event === event)) out.push(cloneRecord.subscription(r));
    }
    return out;
  }
}
