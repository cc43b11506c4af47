import type { AccountResolver } from '../accounts/account-resolver.js';
import { MANUAL_STATES, type EventPackageRegistry, type MailboxCounts, type ManualState, type ResourceState } from '../events/event-package.js';
import type { Clock } from '../lib/clock.js';
import { createPresenceFeed, type PresenceEvent, type PresenceFeed } from '../feed/presence-feed.js';
import type { Unsubscribe } from '../lib/feed.js';
import { PistonError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { IncomingRequest } from '../sip/ua/user-agent-core.js';
import type { PresenceStateStore } from '../store/ports.js';
import { AggregatedStates } from './aggregated-states.js';
import { ChangeAnnouncer } from './change-announcer.js';
import { loadPresentity, restorePresentity } from './presentity-restore.js';
import { PresentityWriter } from './presentity-writer.js';
import { PublicationLedger } from './publication-ledger.js';
import { handlePublish } from './publish/publish-handler.js';
import { PublishRejection } from './publish/publish-rejection.js';
import { readTarget } from './publish/publish-target.js';
import type { PublishPolicy } from './publish/publish-policy.js';
import { exportResource, installResource, type PresentityDoc } from './presentity-replica.js';
import { ResourceBook } from './resource-book.js';
import type { ResourceChangeListener } from './resource-change.js';
import { describeResource, type ResourceDescription } from './resource-description.js';
import type { ResourceKey } from './resource-key.js';

export type { ResourceChange, ResourceChangeListener } from './resource-change.js';
export type { ResourceDescription, PublicationSummary } from './resource-description.js';
export type { PresentityDoc } from './presentity-replica.js';

export interface PresentityOptions {
  store: PresenceStateStore;
  registry: EventPackageRegistry;
  accounts: AccountResolver;
  clock: Clock;
  logger: Logger;
  /**
   * Minimum PUBLISH lifetime in seconds for every package, below which PUBLISH gets 423 (RFC 3903 §6). Default: each
   * package's own minimum (the SUBSCRIBE one). Kamailio's pua_dialoginfo publishes `terminated` with Expires 11, so a
   * deployment behind Kamailio wants this low.
   */
  minPublishExpires?: number;
  /** Where changes are announced (the stack's feed, shared with the notifier and observers). Default: a feed of its own. */
  feed?: PresenceFeed;
  /** Authentication and authorization of PUBLISH (publish/publish-policy.ts); default none: everything allowed. */
  policy?: PublishPolicy;
}

/** The package whose watchers see the manual state first; its dependents (presence) follow through `affectedBy`. */
const MANUAL_STATE_PACKAGE = 'dialog';
/** The package that reads mailbox counts (RFC 3842). */
const MAILBOX_PACKAGE = 'message-summary';

/**
 * Published and manual state of every resource (the ESC of RFC 3903, plus the admin API's manual state and mailbox
 * counts). It answers PUBLISH, keeps the state in memory and in the store, expires publications, aggregates per
 * event package and announces every change that alters what watchers see. All of it runs synchronously, so changes
 * to one resource apply one at a time, in arrival order.
 */
export class PresentityService {
  private readonly store: PresenceStateStore;
  private readonly registry: EventPackageRegistry;
  private readonly accounts: AccountResolver;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly book = new ResourceBook();
  private readonly states: AggregatedStates;
  private readonly announcer: ChangeAnnouncer;
  /** Resource changes go out here (`resource-changed`). */
  readonly feed: PresenceFeed;
  private readonly writer: PresentityWriter;
  private readonly ledger: PublicationLedger;
  private readonly minPublishExpires: number | undefined;
  private readonly policy: PublishPolicy | undefined;
  /** Feed events held back while a cluster commit is pending (`held`); undefined otherwise. */
  private holding: PresenceEvent[] | undefined;
  private publishRoute: ((incoming: IncomingRequest) => void) | undefined;
  /** What the announcer and the PUBLISH handler emit into: the feed, unless events are being held. */
  private readonly out: Pick<PresenceFeed, 'emit' | 'listened'>;

  constructor(opts: PresentityOptions) {
    this.store = opts.store;
    this.registry = opts.registry;
    this.accounts = opts.accounts;
    this.clock = opts.clock;
    this.logger = opts.logger.child({ module: 'presentity' });
    this.minPublishExpires = opts.minPublishExpires;
    this.policy = opts.policy;
    this.states = new AggregatedStates(this.book, this.registry, this.clock);
    this.feed = opts.feed ?? createPresenceFeed({ logger: this.logger });
    const feed = this.feed;
    this.out = {
      emit: (event) => (this.holding ? this.holding.push(event) : feed.emit(event)),
      get listened() {
        return feed.listened;
      },
    };
    this.announcer = new ChangeAnnouncer(this.states, this.out);
    this.writer = new PresentityWriter(this.store, this.clock);
    this.ledger = new PublicationLedger({
      book: this.book,
      writer: this.writer,
      announcer: this.announcer,
      registry: this.registry,
      seqSource: this.store.publications,
      clock: this.clock,
      logger: this.logger,
      onExpired: (p) => {
        if (this.feed.listened) this.out.emit({ kind: 'publication-expired', resource: p.resource, event: p.event, etag: p.etag });
      },
    });
  }

  /** Loads publications, resource states (manual state + history) and mailboxes; drops expired publications; arms expiry. */
  async restore(): Promise<void> {
    const stored = await loadPresentity(this.store);
    this.ledger.clear();
    this.book.clear();
    this.states.clear();
    const summary = restorePresentity(
      {
        store: this.store,
        registry: this.registry,
        book: this.book,
        ledger: this.ledger,
        clock: this.clock,
        logger: this.logger,
      },
      stored,
    );
    this.logger.info({ ...summary }, 'presentity state restored');
  }

  /**
   * Hears every change synchronously, before the PUBLISH handler returns (the notifier's NOTIFYs leave in the same
   * turn): a core listener of the feed. Observers that may lag subscribe to `feed` instead.
   */
  onChange(listener: ResourceChangeListener): Unsubscribe {
    const core = (event: PresenceEvent): void => {
      if (event.kind === 'resource-changed') listener({ resource: event.resource, events: event.events, force: event.force });
    };
    return this.feed.core(core);
  }

  /** Aggregated state of one resource for one package (cached per resource+event until the next change). */
  state(resource: ResourceKey, event: string): ResourceState {
    return this.states.get(resource, event);
  }

  /** The UA handler for PUBLISH (RFC 3903): answers by itself through incoming.respond (or through the cluster's route). */
  handlePublish(incoming: IncomingRequest): void {
    if (this.publishRoute) this.publishRoute(incoming);
    else this.publishHere(incoming);
  }

  /**
   * Cluster mode: PUBLISH goes through `route` (src/cluster/node/), which commits each change to the shared engine and
   * calls `publishHere` for the RFC 3903 processing. A single node never sets one.
   */
  routePublish(route: ((incoming: IncomingRequest) => void) | undefined): void {
    this.publishRoute = route;
  }

  /** The resource a PUBLISH is for, or undefined when its target is refused (the handler then answers why). */
  publishResource(incoming: IncomingRequest): ResourceKey | undefined {
    const target = readTarget(incoming.request, this.accounts);
    return target instanceof PublishRejection ? undefined : target.resource;
  }

  /** PUBLISH processed on this node (RFC 3903 §6), whatever the route. */
  publishHere(incoming: IncomingRequest): void {
    handlePublish(incoming, this.publishDeps(true));
  }

  /**
   * Cluster mode (src/cluster/node/): the PUBLISH handler without the policy's hooks, for a retry of a request they
   * already passed (a digest nonce must not be counted twice).
   */
  handlePublishAgain(incoming: IncomingRequest): void {
    handlePublish(incoming, this.publishDeps(false));
  }

  /** What the PUBLISH handler works with; `withPolicy` false leaves out the policy's hooks (a retry). */
  private publishDeps(withPolicy: boolean): Parameters<typeof handlePublish>[1] {
    return {
      registry: this.registry,
      accounts: this.accounts,
      ledger: this.ledger,
      logger: this.logger,
      storeWritable: () => this.store.writeHealth().writable,
      ...(this.minPublishExpires !== undefined ? { minExpires: this.minPublishExpires } : {}),
      ...(withPolicy ? { policy: this.policy } : {}),
      feed: this.out,
    };
  }

  /**
   * Cluster mode: runs `work` with every feed event it emits (changes, publications) held back, and answers them with
   * its result; the caller releases them once the change is committed to the shared engine, or drops them when the
   * change lost a race and is undone. Synchronous, so nothing else can emit meanwhile.
   */
  held<T>(work: () => T): { result: T; events: PresenceEvent[] } {
    const outer = this.holding;
    const events: PresenceEvent[] = [];
    this.holding = events;
    try {
      return { result: work(), events };
    } finally {
      this.holding = outer;
    }
  }

  /** Emits events `held` kept back, in their order. */
  release(events: readonly PresenceEvent[]): void {
    for (const e of events) this.out.emit(e);
  }

  /** Cluster mode: the resource's whole presentity as a document to share; null when nothing is held. */
  exportResource(resource: ResourceKey): PresentityDoc | null {
    return exportResource(this.book, resource);
  }

  /**
   * Cluster mode: replaces the resource's presentity by a shared document (null: nothing) and announces what changed
   * for watchers, every package (with `force`, all of them whatever changed: a reset from another node).
   */
  installResource(resource: ResourceKey, doc: PresentityDoc | null, force = false): void {
    const announce = this.announcer.track(
      resource,
      this.registry.names(),
      () =>
        installResource(
          { book: this.book, ledger: this.ledger, writer: this.writer, registry: this.registry, clock: this.clock, logger: this.logger },
          resource,
          doc,
        ),
      force,
    );
    announce();
  }

  /** Manual state from the admin API: stored, announced (dialog and presence watchers), replayed to new subscribers. */
  setManualState(resource: ResourceKey, state: ManualState): void {
    if (!MANUAL_STATES.includes(state)) throw new PistonError('bad_manual_state', `manual state must be one of ${MANUAL_STATES.join(', ')}`);
    const announce = this.announcer.track(resource, this.registry.affectedBy(MANUAL_STATE_PACKAGE), () => {
      this.book.ensure(resource).manualState = state;
      this.writer.saveResourceState(resource, this.book.get(resource));
    });
    announce();
  }

  /** Clears publications, manual state and history of the resource (mailbox counts stay); announces with force=true for every package. */
  reset(resource: ResourceKey): void {
    const announce = this.announcer.track(
      resource,
      this.registry.names(),
      () => {
        this.ledger.dropAllOf(resource);
        const entry = this.book.get(resource);
        if (entry) {
          entry.history = {};
          entry.manualState = undefined;
          this.book.prune(resource);
        }
        this.writer.saveResourceState(resource, this.book.get(resource));
      },
      true,
    );
    announce();
  }

  /** Message-waiting counts; null clears them. Announces a message-summary change. */
  setMailbox(mailbox: ResourceKey, counts: MailboxCounts | null): void {
    const clean = counts === null ? undefined : checkedCounts(counts);
    const announce = this.announcer.track(mailbox, this.registry.affectedBy(MAILBOX_PACKAGE), () => {
      if (clean) this.book.ensure(mailbox).mailbox = clean;
      else {
        const entry = this.book.get(mailbox);
        if (entry) entry.mailbox = undefined;
        this.book.prune(mailbox);
      }
      this.writer.saveMailbox(mailbox, clean);
    });
    announce();
  }

  /** For support staff (admin API): manual state, live publications (event, etag, expiresAt, contentType, seq), mailbox. */
  describe(resource: ResourceKey): ResourceDescription {
    return describeResource(this.book, resource);
  }

  /** The manual state alone: what `describe` says, without building its publication list (the live stream's lamps). */
  manualStateOf(resource: ResourceKey): ManualState | null {
    return this.book.get(resource)?.manualState ?? null;
  }

  /** Domains where the user part `user` has published, manual or mailbox state (admin commands on every served domain). */
  domainsOf(user: string): string[] {
    return this.book.domainsOf(user.toLowerCase());
  }

  /** Live publications of one resource, every package (the abuse limits' per-resource cap). */
  publicationCount(resource: ResourceKey): number {
    return this.book.publicationCount(resource.toLowerCase());
  }

  /** Every resource with published, manual or mailbox state now (the live stream's snapshot); read, do not keep. */
  resources(): IterableIterator<ResourceKey> {
    return this.book.keys();
  }

  /** Sizes for metrics and memory checks: resources held, live publications, cached aggregated states. */
  stats(): { resources: number; publications: number; cachedStates: number } {
    return { resources: this.book.size, publications: this.ledger.pendingExpiries, cachedStates: this.states.size };
  }

  /** Cancels timers. */
  dispose(): void {
    this.ledger.clear();
  }
}

/** RFC 3842 §5.2 counts are non-negative integers; a copy is kept so the caller's object can change freely. */
function checkedCounts(c: MailboxCounts): MailboxCounts {
  const out = { newMessages: c.newMessages, oldMessages: c.oldMessages, urgentNew: c.urgentNew, urgentOld: c.urgentOld };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new PistonError('bad_mailbox_counts', `${k} must be a non-negative integer`);
  }
  return out;
}
