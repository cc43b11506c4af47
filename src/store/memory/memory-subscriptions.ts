import { cloneRecord } from '../clone.js';
import type { SubscriptionRepository } from '../presence-state-port.js';
import type { SubscriptionRecord } from '../records.js';

/**
 * Subscriptions in a Map by dialog id. The notifier keeps its own live set and indexes; the store is read only to
 * restore at start-up, and by id or count on admin and test paths, so no secondary index is kept here.
 */
export class MemorySubscriptionRepository implements SubscriptionRepository {
  private readonly byId = new Map<string, SubscriptionRecord>();

  constructor(private readonly assertOpen: () => void) {}

  async loadAll(): Promise<SubscriptionRecord[]> {
    this.assertOpen();
    return [...this.byId.values()].map(cloneRecord.subscription);
  }

  async get(id: string): Promise<SubscriptionRecord | undefined> {
    this.assertOpen();
    const r = this.byId.get(id);
    return r && cloneRecord.subscription(r);
  }

  async count(): Promise<number> {
    this.assertOpen();
    return this.byId.size;
  }

  put(record: SubscriptionRecord): void {
    this.assertOpen();
    const copy = cloneRecord.subscription(record);
    this.byId.set(copy.id, copy);
  }

  delete(id: string): void {
    this.assertOpen();
    this.byId.delete(id);
  }
}
