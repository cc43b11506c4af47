import { cloneRecord } from '../clone.js';
import { publicationKeyString } from '../keys.js';
import type { PublicationKey, PublicationRepository } from '../presence-state-port.js';
import type { PublicationRecord } from '../records.js';
import { SetIndex } from './set-index.js';

const bySeq = (a: PublicationRecord, b: PublicationRecord): number => a.seq - b.seq;

/** Publications in a Map by (resource, event, etag) with an index by resource for `deleteResource` (a reset). */
export class MemoryPublicationRepository implements PublicationRepository {
  private readonly byKey = new Map<string, PublicationRecord>();
  private readonly byResource = new SetIndex();
  private lastSeq = 0;

  constructor(private readonly assertOpen: () => void) {}

  async loadAll(): Promise<PublicationRecord[]> {
    this.assertOpen();
    return [...this.byKey.values()].sort(bySeq).map(cloneRecord.publication);
  }

  async get(key: PublicationKey): Promise<PublicationRecord | undefined> {
    this.assertOpen();
    const r = this.byKey.get(publicationKeyString(key));
    return r && cloneRecord.publication(r);
  }

  async count(): Promise<number> {
    this.assertOpen();
    return this.byKey.size;
  }

  nextSeq(): number {
    this.assertOpen();
    return ++this.lastSeq;
  }

  put(record: PublicationRecord): void {
    this.assertOpen();
    const copy = cloneRecord.publication(record);
    const key = publicationKeyString(copy);
    this.byKey.set(key, copy);
    this.byResource.add(copy.resource, key);
    // A record restored or written with a higher seq must never be overtaken by a later nextSeq().
    if (copy.seq > this.lastSeq) this.lastSeq = copy.seq;
  }

  delete(key: PublicationKey): void {
    this.assertOpen();
    this.remove(publicationKeyString(key));
  }

  deleteResource(resource: string, event?: string): void {
    this.assertOpen();
    for (const r of this.matching(resource, event)) this.remove(publicationKeyString(r));
  }

  private matching(resource: string, event?: string): PublicationRecord[] {
    const out: PublicationRecord[] = [];
    for (const key of this.byResource.get(resource)) {
      const r = this.byKey.get(key);
      if (r && (event === undefined || r.event === event)) out.push(r);
    }
    return out;
  }

  private remove(key: string): void {
    const old = this.byKey.get(key);
    if (!old) return;
    this.byKey.delete(key);
    this.byResource.remove(old.resource, key);
  }
}
