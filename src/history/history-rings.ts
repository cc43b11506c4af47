import { Fifo } from '../lib/fifo.js';
import type { StoredHistoryEntry } from '../store/history-port.js';

export type HistoryEntry = StoredHistoryEntry;

/** Entries kept per resource in memory (operator-ux.md: about 200). */
export const RING_SIZE = 200;
/** Entries kept in memory across all resources (operator-ux.md §9: 100,000 busy resources would otherwise hold GBs). */
export const GLOBAL_ENTRIES = 200_000;

/**
 * A bounded ring of history entries per resource, and a bound on all of them together: past the global bound the
 * oldest entries of the server go first, whichever resource they belong to.
 */
export class HistoryRings {
  private readonly rings = new Map<string, HistoryEntry[]>();
  /** Every entry in arrival order, also those a ring already dropped (skipped when their turn comes). */
  private readonly order = new Fifo<HistoryEntry>();

  constructor(
    private readonly perResource = RING_SIZE,
    private readonly total = GLOBAL_ENTRIES,
  ) {}

  add(entry: HistoryEntry): void {
    let ring = this.rings.get(entry.resource);
    if (!ring) this.rings.set(entry.resource, (ring = []));
    ring.push(entry);
    if (ring.length > this.perResource) ring.shift();
    this.order.push(entry);
    while (this.order.length > this.total) {
      const oldest = this.order.shift()!;
      const of = this.rings.get(oldest.resource);
      if (of?.[0] === oldest) {
        of.shift();
        if (of.length === 0) this.rings.delete(oldest.resource);
      }
    }
  }

  /** The resource's entries, oldest first. */
  of(resource: string): HistoryEntry[] {
    return this.rings.get(resource)?.slice() ?? [];
  }

  /** The resources that have entries (for a history that spans an extension's domains). */
  resources(): IterableIterator<string> {
    return this.rings.keys();
  }

  /** Entries held now, all resources. */
  get size(): number {
    let n = 0;
    for (const r of this.rings.values()) n += r.length;
    return n;
  }
}
