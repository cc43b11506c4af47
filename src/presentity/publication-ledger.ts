import type { EventPackage, EventPackageRegistry, PublishedDocument } from '../events/event-package.js';
import type { Clock } from '../lib/clock.js';
import { DeadlineQueue } from '../lib/deadline-queue.js';
import { newETag } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import type { PublicationRepository } from '../store/ports.js';
import { publicationKeyString } from '../store/keys.js';
import type { Announcement, ChangeAnnouncer } from './change-announcer.js';
import { livePublication, type LivePublication } from './live-publication.js';
import type { PresentityWriter } from './presentity-writer.js';
import type { ResourceBook, ResourceEntry } from './resource-book.js';
import type { ResourceKey } from './resource-key.js';

/** A publication body accepted by its package: the parsed document and the bytes it came from. */
export interface AcceptedBody {
  doc: PublishedDocument;
  body: Buffer;
  contentType: string;
}

/** What a successful PUBLISH answers with: the new entity-tag and the granted lifetime, plus its announcement. */
export interface LedgerOutcome {
  etag: string;
  announce: Announcement;
}

export interface PublicationLedgerOptions {
  book: ResourceBook;
  writer: PresentityWriter;
  announcer: ChangeAnnouncer;
  registry: EventPackageRegistry;
  /** Only for `nextSeq()`: the arrival stamp that orders publications across ETags (RFC 3903 §4). */
  seqSource: Pick<PublicationRepository, 'nextSeq'>;
  clock: Clock;
  logger: Logger;
  /** Told of each expiry before its change is announced (the history). */
  onExpired?: (p: LivePublication) => void;
}

/**
 * The lifecycle of publications (RFC 3903 §4): create, modify, refresh, remove and expire. Every change is applied
 * synchronously through the announcer, persisted, and its expiry kept in one deadline queue. Each successful
 * create, modify or refresh gets a new entity-tag and the old one stops working (RFC 3903 §4.1, §6).
 */
export class PublicationLedger {
  private readonly expiry: DeadlineQueue<string>;
  private readonly book: ResourceBook;
  private readonly writer: PresentityWriter;
  private readonly announcer: ChangeAnnouncer;
  private readonly registry: EventPackageRegistry;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly opts: PublicationLedgerOptions) {
    this.book = opts.book;
    this.writer = opts.writer;
    this.announcer = opts.announcer;
    this.registry = opts.registry;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.expiry = new DeadlineQueue<string>(opts.clock, (key) => this.expire(key));
  }

  /** A live publication by entity-tag; one past its expiry is expired now rather than matched (RFC 3903 §4.1). */
  find(resource: ResourceKey, event: string, etag: string): LivePublication | undefined {
    const p = this.book.findPublication(resource, event, etag);
    if (!p) return undefined;
    if (p.expiresAt <= this.clock.now()) {
      this.expireNow(p);
      return undefined;
    }
    return p;
  }

  /** A new publication (no SIP-If-Match): a fresh entity-tag (RFC 3903 §6 step 3). */
  create(resource: ResourceKey, pkg: EventPackage, accepted: AcceptedBody, expires: number): LedgerOutcome {
    return this.accept(resource, pkg, accepted, expires, undefined);
  }

  /** A modification (SIP-If-Match and a body): the new document replaces the old one under a new entity-tag. */
  modify(existing: LivePublication, pkg: EventPackage, accepted: AcceptedBody, expires: number): LedgerOutcome {
    return this.accept(existing.resource, pkg, accepted, expires, existing);
  }

  /** A refresh (SIP-If-Match, no body): same document and arrival order, new lifetime and entity-tag (RFC 3903 §4.3). */
  refresh(existing: LivePublication, expires: number): LedgerOutcome {
    const etag = newETag();
    const now = this.clock.now();
    const announce = this.announcer.track(existing.resource, this.registry.affectedBy(existing.event), () => {
      this.drop(existing);
      this.keep(
        livePublication({
          resource: existing.resource,
          event: existing.event,
          etag,
          seq: existing.seq,
          contentType: existing.contentType,
          body: existing.body,
          doc: existing.view.doc,
          expiresAt: now + expires * 1000,
          updatedAt: now,
        }),
      );
    });
    return { etag, announce };
  }

  /** A removal (SIP-If-Match, Expires 0; RFC 3903 §4.5). The package history stays: it remembers ended dialogs. */
  remove(existing: LivePublication): Announcement {
    return this.announcer.track(existing.resource, this.registry.affectedBy(existing.event), () => this.drop(existing));
  }

  /** Removes every publication of a resource without announcing (the caller tracks the change, e.g. reset). */
  dropAllOf(resource: ResourceKey): void {
    for (const p of this.book.publicationsOf(resource)) {
      this.expiry.cancel(publicationKeyString(p));
      this.book.removePublication(p.resource, p.event, p.etag);
    }
    this.writer.deletePublicationsOf(resource);
  }

  /** Takes a restored publication into memory and re-arms its expiry; nothing is written or announced. */
  adopt(p: LivePublication): void {
    this.book.putPublication(p);
    this.expiry.schedule(publicationKeyString(p), p.expiresAt);
  }

  /** Cancels the expiry timer. */
  clear(): void {
    this.expiry.clear();
  }

  /** Publications waiting to expire (for tests and metrics). */
  get pendingExpiries(): number {
    return this.expiry.size;
  }

  private accept(resource: ResourceKey, pkg: EventPackage, accepted: AcceptedBody, expires: number, replacing: LivePublication | undefined): LedgerOutcome {
    const etag = newETag();
    const now = this.clock.now();
    // Above every publication the resource holds: in a cluster they may come from other nodes' counters.
    const seq = Math.max(this.opts.seqSource.nextSeq(), this.book.maxSeq(resource) + 1);
    const announce = this.announcer.track(resource, this.registry.affectedBy(pkg.name), () => {
      // The replaced document goes first; its entity-tag stops working (RFC 3903 §4.4).
      if (replacing) this.drop(replacing);
      const entry = this.book.ensure(resource);
      const previousHistory = entry.history[pkg.name];
      // RFC 3903 §4: the package folds the new state into what it remembers of the resource (e.g. ended dialogs).
      const applied = pkg.applyPublication(accepted.doc, previousHistory, { now, etag, seq });
      setHistory(entry, pkg.name, applied.history);
      this.keep(
        livePublication({
          resource,
          event: pkg.name,
          etag,
          seq,
          contentType: accepted.contentType,
          body: accepted.body,
          doc: applied.doc,
          expiresAt: now + expires * 1000,
          updatedAt: now,
        }),
      );
      if (entry.history[pkg.name] !== previousHistory) this.writer.saveResourceState(resource, this.book.get(resource));
    });
    return { etag, announce };
  }

  private keep(p: LivePublication): void {
    this.book.putPublication(p);
    this.writer.putPublication(p);
    this.expiry.schedule(publicationKeyString(p), p.expiresAt);
  }

  private drop(p: LivePublication): void {
    this.expiry.cancel(publicationKeyString(p));
    this.book.removePublication(p.resource, p.event, p.etag);
    this.writer.deletePublication(p);
  }

  /** The deadline queue's callback: a publication not refreshed in time is removed (RFC 3903 §6) and watchers told. */
  private expire(key: string): void {
    const [resource, event, etag] = key.split('\u0000') as [string, string, string];
    const p = this.book.findPublication(resource, event, etag);
    if (p) this.expireNow(p);
  }

  private expireNow(p: LivePublication): void {
    this.logger.debug({ resource: p.resource, event: p.event, etag: p.etag }, 'publication expired');
    this.opts.onExpired?.(p);
    this.remove(p)();
  }
}

function setHistory(entry: ResourceEntry, pkg: string, history: unknown): void {
  // A history that holds no data (e.g. `{ended: []}`) is not kept: packages accept a missing one, and an idle
  // resource should cost no memory or store record.
  if (holdsNothing(history)) delete entry.history[pkg];
  else entry.history[pkg] = history;
}

/** True for undefined, null, and arrays or objects made only of such values. */
function holdsNothing(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.values(value).every(holdsNothing);
  return false;
}
