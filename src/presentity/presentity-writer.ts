import type { MailboxCounts } from '../events/event-package.js';
import type { Clock } from '../lib/clock.js';
import type { PresenceStateStore } from '../store/ports.js';
import type { JsonValue } from '../store/records.js';
import { toRecord, type LivePublication } from './live-publication.js';
import type { ResourceEntry } from './resource-book.js';
import type { ResourceKey } from './resource-key.js';

/**
 * Writes presentity state through the store port as it changes (write-behind: the store buffers and flushes). The
 * memory is the truth while running; the store is what `restore()` reads back after a restart.
 */
export class PresentityWriter {
  constructor(
    private readonly store: PresenceStateStore,
    private readonly clock: Clock,
  ) {}

  putPublication(p: LivePublication): void {
    this.store.publications.put(toRecord(p));
  }

  deletePublication(p: Pick<LivePublication, 'resource' | 'event' | 'etag'>): void {
    this.store.publications.delete({ resource: p.resource, event: p.event, etag: p.etag });
  }

  deletePublicationsOf(resource: ResourceKey): void {
    this.store.publications.deleteResource(resource);
  }

  /** Manual state and package history of a resource; the record goes when neither is left. */
  saveResourceState(resource: ResourceKey, entry: ResourceEntry | undefined): void {
    const history = entry ? jsonHistory(entry.history) : {};
    const manual = entry?.manualState ?? null;
    if (manual === null && Object.keys(history).length === 0) {
      this.store.resources.delete(resource);
      return;
    }
    this.store.resources.put({ resource, manualState: manual, history, updatedAt: this.clock.now() });
  }

  saveMailbox(mailbox: ResourceKey, counts: MailboxCounts | undefined): void {
    if (!counts) {
      this.store.mailboxes.delete(mailbox);
      return;
    }
    this.store.mailboxes.put({
      mailbox,
      newMessages: counts.newMessages,
      oldMessages: counts.oldMessages,
      urgentNew: counts.urgentNew,
      urgentOld: counts.urgentOld,
      updatedAt: this.clock.now(),
    });
  }
}

/** History values are JSON-able by contract (event-package.ts); undefined ones are simply not kept. */
function jsonHistory(history: Record<string, unknown>): { [pkg: string]: JsonValue } {
  const out: { [pkg: string]: JsonValue } = {};
  for (const [pkg, value] of Object.entries(history)) if (value !== undefined) out[pkg] = value as JsonValue;
  return out;
}
