import type { EventPackageRegistry, PublishedDocument } from '../events/event-package.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { PresenceStateStore } from '../store/ports.js';
import type { MailboxRecord, PublicationRecord, ResourceStateRecord } from '../store/records.js';
import { livePublication } from './live-publication.js';
import type { PublicationLedger } from './publication-ledger.js';
import type { ResourceBook } from './resource-book.js';

export interface RestoreDeps {
  store: PresenceStateStore;
  registry: EventPackageRegistry;
  book: ResourceBook;
  ledger: PublicationLedger;
  clock: Clock;
  logger: Logger;
}

export interface RestoreSummary {
  publications: number;
  /** Publications that had expired while we were down, or whose package is no longer served; deleted from the store. */
  dropped: number;
  resources: number;
  mailboxes: number;
}

/** What the store held for the presentity service at start-up. */
export interface StoredPresentity {
  publications: PublicationRecord[];
  resources: ResourceStateRecord[];
  mailboxes: MailboxRecord[];
}

/**
 * Reads the stored presentity state, all of it before `restorePresentity` changes anything live: the store answers
 * asynchronously (presence-state-port.ts), and the restore itself then happens in one turn of the event loop.
 */
export async function loadPresentity(store: PresenceStateStore): Promise<StoredPresentity> {
  const publications = await store.publications.loadAll();
  const resources = await store.resources.loadAll();
  const mailboxes = await store.mailboxes.loadAll();
  return { publications, resources, mailboxes };
}

/**
 * Takes the presentity state back after a restart: live publications (their expiry re-armed), manual states and
 * package histories, mailbox counts. Nothing is announced: the notifier restores its subscriptions on its own and
 * renders from `state()` when it next notifies.
 */
export function restorePresentity(deps: RestoreDeps, stored: StoredPresentity): RestoreSummary {
  const { store, registry, book, ledger, clock, logger } = deps;
  const now = clock.now();
  const summary: RestoreSummary = { publications: 0, dropped: 0, resources: 0, mailboxes: 0 };

  for (const rec of stored.publications) {
    const doc = rec.expiresAt > now ? documentOf(rec, registry, logger) : undefined;
    if (!doc) {
      // RFC 3903 §6: state not refreshed in time is gone, also when the time passed while we were down.
      store.publications.delete(rec);
      summary.dropped++;
      continue;
    }
    const { document: _document, ...fields } = rec;
    ledger.adopt(livePublication({ ...fields, doc }));
    summary.publications++;
  }

  for (const rec of stored.resources) {
    const entry = book.ensure(rec.resource);
    entry.manualState = rec.manualState ?? undefined;
    entry.history = isRecord(rec.history) ? { ...rec.history } : {};
    book.prune(rec.resource);
    summary.resources++;
  }

  for (const rec of stored.mailboxes) {
    const { newMessages, oldMessages, urgentNew, urgentOld } = rec;
    book.ensure(rec.mailbox).mailbox = { newMessages, oldMessages, urgentNew, urgentOld };
    summary.mailboxes++;
  }
  return summary;
}

/** The stored document, or the body parsed again when none was kept; undefined when the package is gone or refuses it. */
export function documentOf(rec: PublicationRecord, registry: EventPackageRegistry, logger: Logger): PublishedDocument | undefined {
  const pkg = registry.get(rec.event);
  if (!pkg) return undefined;
  if (isRecord(rec.document) && typeof rec.document['format'] === 'string') return rec.document as unknown as PublishedDocument;
  try {
    return pkg.parsePublication(rec.body, rec.contentType);
  } catch (err) {
    logger.warn({ err, resource: rec.resource, event: rec.event, etag: rec.etag }, 'stored publication no longer parses; dropped');
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
