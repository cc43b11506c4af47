import type { EventPackageRegistry } from '../events/event-package.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { JsonValue, MailboxRecord, ManualState, PublicationRecord } from '../store/records.js';
import { livePublication, toRecord } from './live-publication.js';
import { documentOf } from './presentity-restore.js';
import type { PresentityWriter } from './presentity-writer.js';
import type { PublicationLedger } from './publication-ledger.js';
import type { ResourceBook } from './resource-book.js';
import type { ResourceKey } from './resource-key.js';

/**
 * A resource's whole presentity as one plain value: what a cluster node commits to the shared engine and installs
 * from it (cluster.md §6). The same shape as the cluster port's `ResourceDoc`, declared here so presentity stays free
 * of the cluster layer.
 */
export interface PresentityDoc {
  publications: Omit<PublicationRecord, 'resource'>[];
  history: JsonValue;
  manualState: ManualState | null;
  mailbox: Omit<MailboxRecord, 'mailbox'> | null;
}

export interface ReplicaDeps {
  book: ResourceBook;
  ledger: PublicationLedger;
  writer: PresentityWriter;
  registry: EventPackageRegistry;
  clock: Clock;
  logger: Logger;
}

/** The resource as a document; null when nothing is held for it. */
export function exportResource(book: ResourceBook, resource: ResourceKey): PresentityDoc | null {
  const entry = book.get(resource);
  if (!entry) return null;
  const publications = book.publicationsOf(resource).map((p) => {
    const { resource: _r, ...rest } = toRecord(p);
    return rest;
  });
  publications.sort((a, b) => a.seq - b.seq);
  const history: { [pkg: string]: JsonValue } = {};
  for (const [pkg, value] of Object.entries(entry.history)) if (value !== undefined) history[pkg] = value as JsonValue;
  const mailbox = entry.mailbox ? { ...entry.mailbox, updatedAt: 0 } : null;
  return { publications, history, manualState: entry.manualState ?? null, mailbox };
}

/**
 * Replaces what the book holds for `resource` by `doc` (null: nothing), re-arming expiries and writing the store, as
 * a restore does for one resource. Publications already past their expiry are left out: they would only flash on and
 * off again. Runs inside the caller's tracked change, which announces what watchers see differently.
 */
export function installResource(deps: ReplicaDeps, resource: ResourceKey, doc: PresentityDoc | null): void {
  const { book, ledger, writer, registry, clock, logger } = deps;
  ledger.dropAllOf(resource);
  const entry = book.ensure(resource);
  entry.history = doc && isRecord(doc.history) ? { ...doc.history } : {};
  entry.manualState = doc?.manualState ?? undefined;
  const m = doc?.mailbox;
  entry.mailbox = m ? { newMessages: m.newMessages, oldMessages: m.oldMessages, urgentNew: m.urgentNew, urgentOld: m.urgentOld } : undefined;
  const now = clock.now();
  for (const rec of doc?.publications ?? []) {
    if (rec.expiresAt <= now) continue;
    const parsed = documentOf({ ...rec, resource }, registry, logger);
    if (!parsed) continue;
    const { document: _d, ...fields } = rec;
    const live = livePublication({ ...fields, resource, doc: parsed });
    ledger.adopt(live);
    writer.putPublication(live);
  }
  writer.saveResourceState(resource, book.get(resource));
  writer.saveMailbox(resource, entry.mailbox);
  book.prune(resource);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
