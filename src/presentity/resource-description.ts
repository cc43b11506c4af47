import type { MailboxCounts, ManualState } from '../events/event-package.js';
import type { ResourceBook } from './resource-book.js';
import type { ResourceKey } from './resource-key.js';

/** One live publication as support staff see it (no body: that can be large and is not theirs to read here). */
export interface PublicationSummary {
  event: string;
  etag: string;
  /** ms epoch. */
  expiresAt: number;
  contentType: string;
  seq: number;
  /** ms epoch of the PUBLISH that last created, refreshed or modified it. */
  updatedAt: number;
}

/** What the admin API shows for a resource (notifier-contract.md, `describe`). */
export interface ResourceDescription {
  resource: ResourceKey;
  manualState: ManualState | null;
  /** In arrival order. */
  publications: PublicationSummary[];
  mailbox: MailboxCounts | null;
}

export function describeResource(book: ResourceBook, resource: ResourceKey): ResourceDescription {
  const entry = book.get(resource);
  const publications = book
    .publicationsOf(resource)
    .sort((a, b) => a.seq - b.seq)
    .map((p) => ({ event: p.event, etag: p.etag, expiresAt: p.expiresAt, contentType: p.contentType, seq: p.seq, updatedAt: p.updatedAt }));
  return {
    resource,
    manualState: entry?.manualState ?? null,
    publications,
    mailbox: entry?.mailbox ? { ...entry.mailbox } : null,
  };
}
