import type { EventPackageRegistry } from '../events/event-package.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { jsonEqual } from '../lib/json-equal.js';
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
 * Replaces what the book holds for `resource` by `doc` (null: nothing), as a restore does for one resource, touching
 * only what differs: publications are matched by (event, etag) and kept when their expiry and arrival stamp are the
 * same, so a change of one publication costs one store write, not one per publication. Publications already past
 * their expiry are left out: they would only flash on and off again. Runs inside the caller's tracked change, which
 * announces what watchers see differently.
 */
export function installResource(deps: ReplicaDeps, resource: ResourceKey, doc: PresentityDoc | null): void {
  const { book, ledger, writer, registry, clock, logger } = deps;
  const now = clock.now();
  const key = (event: string, etag: string): string => `${event}\u0000${etag}`;
  const wanted = new Map<string, PresentityDoc['publications'][number]>();
  for (const rec of doc?.publications ?? []) if (rec.expiresAt > now) wanted.set(key(rec.event, rec.etag), rec);
  for (const p of book.publicationsOf(resource)) {
    const w = wanted.get(key(p.event, p.etag));
    if (w && w.expiresAt === p.expiresAt && w.seq === p.seq) wanted.delete(key(p.event, p.etag));
    else ledger.discard(p);
  }
  for (const rec of wanted.values()) {
    const parsed = documentOf({ ...rec, resource }, registry, logger);
    if (!parsed) continue;
    const { document: _d, ...fields } = rec;
    const live = livePublication({ ...fields, resource, doc: parsed });
    ledger.adopt(live);
    writer.putPublication(live);
  }
  const entry = book.ensure(resource);
  const history = doc && isRecord(doc.history) ? { ...doc.history } : {};
  const manual = doc?.manualState ?? undefined;
  if (!jsonEqual(history, entry.history) || manual !== entry.manualState) {
    entry.history = history;
    entry.manualState = manual;
    writer.saveResourceState(resource, entry);
  }
  const m = doc?.mailbox;
  const mailbox = m ? { newMessages: m.newMessages, oldMessages: m.oldMessages, urgentNew: m.urgentNew, urgentOld: m.urgentOld } : undefined;
  if (!jsonEqual(mailbox, entry.mailbox)) {
    entry.mailbox = mailbox;
    writer.saveMailbox(resource, mailbox);
  }
  book.prune(resource);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
