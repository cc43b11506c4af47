import type { AccountResolver } from '../accounts/account-resolver.js';
import type { EventPackage, EventPackageRegistry, ResourceState } from '../events/event-package.js';
import { createPresenceFeed, type NotifyFailure, type PresenceFeed, type RemovalReason } from '../feed/presence-feed.js';
import type { Clock } from '../lib/clock.js';
import { ExpiryWheel } from '../lib/expiry-wheel.js';
import { PistonError } from '../lib/errors.js';
import { newTag } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import { detach, StringPool } from '../lib/strings.js';
import { domainsOfUser, entityOf, resourceKey, type ResourceKey } from '../presentity/resource-key.js';
import { createUasDialog, remoteTargetOf } from '../sip/dialog/create-uas-dialog.js';
import { idOfDialog } from '../sip/dialog/dialog-state.js';
import type { SipRequest } from '../sip/message/message.js';
import type { RequestIdentity } from '../sip/ua/request-policy.js';
import { ParseError } from '../sip/message/parse-error.js';
import { transportOfDestination, type ClientResult, type Destination } from '../sip/transaction/non-invite-client-transaction.js';
import type { Flow } from '../sip/transport/flow.js';
import type { TransportDescriptor } from '../sip/transport/transport-descriptor.js';
import type { IncomingRequest, RespondOptions } from '../sip/ua/user-agent-core.js';
import type { PresenceStateStore } from '../store/ports.js';
import type { SubscriptionRecord } from '../store/records.js';
import { compactFlow, compactRecord } from './compact-record.js';
import { FlowBoundSubscriptions } from './flow-bound.js';
import { SEQUENCE_LEASE, type LiveSubscription } from './live-subscription.js';
import { buildNotify, subscriptionStateValue } from './notify-request.js';
import { NotifyPacer } from './notify-pacer.js';
import { judgeNotifyResult, MAX_STRIKES } from './notify-verdict.js';
import type { PresentityChange, PresentitySource } from './presentity-source.js';
import { SentNotify } from './sent-notify.js';
import type { SubscribePolicy } from './subscribe-policy.js';
import { newSubscribeContext, SUBSCRIBE_STEPS, type Rejection, type StepDeps, type SubscribeContext } from './subscribe-steps.js';
import { dialogOf, flowRecord, localContact, notifyDestination } from './subscription-dialog.js';
import { restoreSubscriptions } from './subscription-restore.js';
import { SubscriptionSet } from './subscription-set.js';
import { SubscriptionState, transition } from './subscription-state.js';

export { SEQUENCE_LEASE, type LiveSubscription } from './live-subscription.js';
export { DEFAULT_NOTIFY_WINDOW, NOTIFY_SLOT_HOLD_MS } from './notify-pacer.js';

/** How NOTIFYs leave; `TransactionLayer` fits. */
export interface NotifyChannel {
  request(req: SipRequest, destination: Destination): Promise<ClientResult>;
}

export interface NotifierOptions {
  store: PresenceStateStore;
  registry: EventPackageRegistry;
  /** `PresentityService` (notifier-contract.md); only `state` and `onChange` are used. */
  presentity: PresentitySource;
  accounts: AccountResolver;
  channel: NotifyChannel;
  clock: Clock;
  logger: Logger;
  /** Recorded on each subscription as the node holding the dialog (api-contract.md `stalker`). */
  nodeName: string;
  /** Dialog package: list every dialog instead of the most interesting one. */
  allDialogs: boolean;
  /** Host for our Contact when the flow's local address is a wildcard; default: the watched domain. */
  publicHost?: string;
  /**
   * Where subscription events go (created, refreshed, NOTIFY sent and answered, removed): metrics and other observers
   * listen there. Default: a feed of its own, heard by nobody.
   */
  feed?: PresenceFeed;
  /** NOTIFY transactions in flight at once (default DEFAULT_NOTIFY_WINDOW). */
  notifyWindow?: number;
  /** Authentication and authorization of SUBSCRIBE (subscribe-policy.ts); default none: everything allowed. */
  policy?: SubscribePolicy;
}

/**
 * A NOTIFY in flight for one subscription (RFC 6665 §4.2.2 asks for order; we allow one at a time), and what waits
 * behind it: nothing, the newest full state (any number of changes coalesce into one), or the final NOTIFY (the
 * subscription is `terminating` and this NOTIFY is not the final one). Exists only while a NOTIFY is out, so an idle
 * subscription costs nothing here.
 */
interface Flight {
  rec: LiveSubscription;
  /** The NOTIFY out (or deferred) is the final one (`Subscription-State: terminated`). */
  final: boolean;
  /** A full-state update waits behind the NOTIFY out. */
  update: boolean;
  finalReason: string | undefined;
  /** The transport of the NOTIFY out (its destination's), for the failure policy; set when the NOTIFY is built. */
  transport: TransportDescriptor | undefined;
  /** The NOTIFY out went on the SUBSCRIBE's flow with nothing to fall back on (notifyDestination), for the failure policy. */
  flowOnly: boolean;
  /** Set while a NOTIFY waits for room in the send window (or in its source's share of it). */
  deferred?: { final: boolean; reason: string | undefined } | undefined;
  /** True while the NOTIFY out holds a slot of the send window (notify-pacer.ts). */
  holdsSlot: boolean;
  /** The source whose share of the window that slot counts against (notify-pacer.ts). */
  slotSource?: string | undefined;
}

/** Expiries fire up to this late (RFC 6665 leaves the exact moment to the notifier); coarser buckets cost less. */
const EXPIRY_RESOLUTION_MS = 1000;

/** Versions are unsigned 32-bit (RFC 4235 §4.1); wrapping after 2^32 documents is out of reach in practice. */
const nextVersion = (v: number): number => (v + 1) % 0x1_0000_0000;

/** Whom a subscription's NOTIFYs are paced as (notify-pacer.ts): the address its last SUBSCRIBE came from. */
const sourceOf = (rec: SubscriptionRecord): string => rec.flow.remoteAddress;

/** The respond options of a rejected SUBSCRIBE: its headers (Allow-Events, Min-Expires, a challenge) and reason phrase. */
function rejectionAnswer(rejection: Rejection): RespondOptions {
  const options: RespondOptions = {};
  if (rejection.headers) options.headers = rejection.headers;
  if (rejection.reason !== undefined) options.reason = rejection.reason;
  return options;
}

/**
 * The RFC 6665 notifier, generic over event packages: it answers SUBSCRIBE, keeps the subscription dialogs, sends
 * NOTIFYs with each package's rendering of the presentity state, applies the failure policy and expires what is not
 * refreshed. Live state is the subscription records themselves (written behind on every dialog change; CSeq and
 * version only every SEQUENCE_LEASE NOTIFYs) in the subscription set (subscription-set.ts), one expiry wheel for all
 * of them, and a flight record only while a NOTIFY is out; the send window is the pacer's (notify-pacer.ts). Each
 * subscription's life is a named state moved by `transition` (subscription-state.ts).
 */
export class Notifier {
  private readonly opts: NotifierOptions;
  private readonly logger: Logger;
  private readonly feed: PresenceFeed;
  private readonly subs = new SubscriptionSet();
  /** Subscriptions that live only as long as their connection (WebSocket), by connection. */
  private readonly bound = new FlowBoundSubscriptions();
  /** One copy of the values many subscriptions share (domains, addresses, media types). */
  private readonly strings = new StringPool();
  private readonly flights = new Map<string, Flight>();
  /** Subscriptions whose challenged NOTIFY has been logged (once each). */
  private readonly challengeLogged = new WeakSet<LiveSubscription>();
  private readonly pacer: NotifyPacer<Flight>;
  private readonly expiry: ExpiryWheel<LiveSubscription>;
  private readonly deps: StepDeps;
  private disposed = false;
  private readonly stopListening: () => void;

  constructor(opts: NotifierOptions) {
    this.opts = opts;
    this.logger = opts.logger.child({ module: 'notifier' });
    this.feed = opts.feed ?? createPresenceFeed({ logger: this.logger });
    this.expiry = new ExpiryWheel(opts.clock, EXPIRY_RESOLUTION_MS, (rec) => this.onExpiry(rec));
    this.pacer = new NotifyPacer<Flight>({
      clock: opts.clock,
      ...(opts.notifyWindow === undefined ? {} : { window: opts.notifyWindow }),
      sourceOf: (flight) => sourceOf(flight.rec),
      notify: (rec) => this.sendNotify(rec, false, undefined),
      send: (flight) => {
        const deferred = flight.deferred!;
        flight.deferred = undefined;
        // Given up on while it waited (replaced, refused): it gets nothing more.
        if (flight.rec.state === SubscriptionState.Terminated) {
          this.flights.delete(flight.rec.id);
          return;
        }
        // It renders the newest state now, so the changes that came while it waited are in it.
        flight.update = false;
        this.transmit(flight, deferred.final, deferred.reason);
      },
    });
    this.deps = {
      registry: opts.registry,
      accounts: opts.accounts,
      findDialog: (id) => this.subs.get(id),
      storeWritable: () => opts.store.writeHealth().writable,
      policy: opts.policy,
    };
    this.stopListening = opts.presentity.onChange((change) => this.onResourceChange(change));
  }

  /**
   * Work still to send, for clean shutdown: NOTIFYs out or waiting (one per subscription), plus resource changes
   * waiting whole (one each, however many watchers they will reach).
   */
  get inFlight(): number {
    return this.flights.size + this.pacer.queuedChanges;
  }

  count(): number {
    return this.subs.size;
  }

  /** Live subscriptions per event package (packages with none are absent), for metrics. */
  countByEvent(): Record<string, number> {
    return this.subs.countByEvent();
  }

  /** Live subscriptions whose watched domain is `domain` (an account's realm), optionally of one event package. */
  list(domain: string, event?: string): SubscriptionRecord[] {
    return this.listWhere((watched) => watched === domain.toLowerCase(), event);
  }

  /**
   * Live subscriptions whose watched (lower-cased) domain passes `served`, optionally of one event package: an
   * account lists every domain it serves, not only its realm.
   */
  listWhere(served: (domain: string) => boolean, event?: string): SubscriptionRecord[] {
    return this.subs.listWhere(served, event);
  }

  /** Every live subscription now: the live records, read-only, not copies (the admin list reads them in slices). */
  liveRecords(): readonly Readonly<SubscriptionRecord>[] {
    return this.subs.snapshot();
  }

  /** Domains where the user part `user` is watched (any event package). */
  watchedDomains(user: string): string[] {
    return domainsOfUser(this.subs.resources(), user.toLowerCase());
  }

  /** Live subscriptions watching one resource (every event package). */
  watchersOf(resource: ResourceKey): SubscriptionRecord[] {
    return this.subs.watchersOf(resource);
  }

  /** Whether any live subscription watches `resource` (a normalised key): a map lookup, for cluster mode's stream. */
  isWatched(resource: ResourceKey): boolean {
    return (this.subs.watchers(resource)?.size ?? 0) > 0;
  }

  /** Loads the stored subscriptions (subscription-restore.ts says how CSeq and version continue). */
  async restore(options: { headroom?: number } = {}): Promise<void> {
    const { restored, dropped } = await restoreSubscriptions(
      {
        store: this.opts.store,
        clock: this.opts.clock,
        strings: this.strings,
        has: (id) => this.subs.get(id) !== undefined,
        addLive: (rec) => this.addLive(rec),
      },
      options.headroom ?? 0,
    );
    this.logger.info({ restored, dropped }, 'subscriptions restored');
  }

  /**
   * Writes CSeq and version of every subscription that has run ahead of the store, so that a start after a clean
   * stop continues exactly. Returns how many were written.
   */
  checkpoint(): number {
    let written = 0;
    for (const rec of this.subs.values()) {
      if (rec.localCseq === rec.storedCseq) continue;
      this.persist(rec);
      written++;
    }
    return written;
  }

  /** The UA handler for SUBSCRIBE (RFC 6665 §4.2.1). */
  handleSubscribe(incoming: IncomingRequest): void {
    const ctx = newSubscribeContext(incoming.request, incoming.flow);
    try {
      for (const step of SUBSCRIBE_STEPS) {
        const rejection = step(ctx, this.deps);
        if (rejection) {
          this.logger.debug({ status: rejection.status, why: rejection.why, callId: incoming.request.callId }, 'SUBSCRIBE rejected');
          incoming.respond(rejection.status, rejectionAnswer(rejection));
          return;
        }
      }
      // findDialog answers from the live set, so an existing dialog is a LiveSubscription.
      const existing = ctx.existing as LiveSubscription | undefined;
      if (existing) {
        if (ctx.granted === 0) this.unsubscribe(incoming, ctx, existing);
        else this.refresh(incoming, ctx, existing);
      } else if (ctx.granted === 0) this.fetch(incoming, ctx);
      else this.create(incoming, ctx);
    } catch (err) {
      // Every step and action reads the request before it changes anything, so a malformed header is a clean 400.
      if (!(err instanceof ParseError)) throw err;
      this.logger.debug({ why: err.message }, 'SUBSCRIBE rejected: malformed');
      incoming.respond(400, { reason: 'Bad Request' });
    }
  }

  /**
   * A connection closed. Subscriptions that can be reached only on it (a WebSocket's, RFC 7118) end now, without a
   * final NOTIFY, which could not reach them; those of a TCP or TLS connection stay for the phone's refresh (or their
   * next NOTIFY's failure policy).
   */
  flowClosed(flow: Flow): void {
    if (this.disposed) return;
    for (const rec of this.bound.take(flow)) {
      if (this.drop(rec, 'disconnected')) this.logger.debug({ id: rec.id, transport: flow.protocol }, 'subscription ended with its connection');
    }
  }

  /** Stops the expiry timer and ignores whatever comes later (answers to NOTIFYs in flight, changes). */
  dispose(): void {
    this.disposed = true;
    this.stopListening();
    this.expiry.clear();
    this.pacer.stop();
  }

  // ---- SUBSCRIBE actions ----

  /** A new subscription (RFC 6665 §4.2.1.2): 200 with our tag and Contact, then at once a full-state NOTIFY. */
  private create(incoming: IncomingRequest, ctx: SubscribeContext): void {
    const rec = this.newRecord(incoming, ctx);
    this.replaceOlder(rec);
    this.respondOk(incoming, rec, ctx.granted);
    // Authorized at once: every watcher the steps let through may see the state (RFC 6665 §4.2.1.1 leaves it pending otherwise).
    transition(rec, SubscriptionState.Active);
    this.addLive(rec);
    this.logger.debug({ id: rec.id, event: rec.event, resource: rec.resource, domain: rec.domain, expires: ctx.granted }, 'subscription created');
    this.feed.emit({ kind: 'subscription-created', subscription: rec });
    this.sendNotify(rec, false, undefined);
    // One store write, after the first NOTIFY has taken its CSeq.
    this.persist(rec);
  }

  /** A fetch (RFC 6665 §4.4.3): Expires 0 outside a dialog gets 200 and one final NOTIFY with the state; nothing is kept. */
  private fetch(incoming: IncomingRequest, ctx: SubscribeContext): void {
    const rec = this.newRecord(incoming, ctx);
    this.respondOk(incoming, rec, 0);
    transition(rec, SubscriptionState.Terminating);
    this.sendNotify(rec, true, undefined);
  }

  /** A refresh (RFC 6665 §4.2.1.2): new expiry, the SUBSCRIBE's flow and Contact (a target refresh), a full-state NOTIFY. */
  private refresh(incoming: IncomingRequest, ctx: SubscribeContext, rec: LiveSubscription): void {
    const req = incoming.request;
    const contact = req.contact.length > 0 || req.contactStar ? detach(remoteTargetOf(req)) : rec.contact;
    const now = this.opts.clock.now();
    rec.remoteCseq = req.cseq.seq;
    rec.contact = contact;
    this.bound.forget(rec);
    rec.flow = compactFlow(flowRecord(incoming.flow, ctx.identity), this.strings);
    this.bound.note(rec);
    rec.acceptTypes = req.accept.map((a) => this.strings.intern(a));
    rec.grantedExpires = ctx.granted;
    rec.expiresAt = now + ctx.granted * 1000;
    rec.refreshedAt = now;
    if (ctx.identity !== undefined) rec.identity = ctx.identity;
    this.persist(rec);
    this.expiry.schedule(rec, rec.expiresAt);
    this.respondOk(incoming, rec, ctx.granted);
    this.feed.emit({ kind: 'subscription-refreshed', subscription: rec });
    this.sendNotify(rec, false, undefined);
  }

  /** Unsubscribe (RFC 6665 §4.2.1.4): 200, a final NOTIFY `terminated`, and the subscription is gone. */
  private unsubscribe(incoming: IncomingRequest, ctx: SubscribeContext, rec: LiveSubscription): void {
    rec.remoteCseq = incoming.request.cseq.seq;
    this.bound.forget(rec);
    rec.flow = flowRecord(incoming.flow, ctx.identity);
    this.respondOk(incoming, rec, 0);
    this.terminate(rec, undefined, 'unsubscribed');
  }

  private newRecord(incoming: IncomingRequest, ctx: SubscribeContext): LiveSubscription {
    const req = incoming.request;
    const now = this.opts.clock.now();
    const dialog = createUasDialog(req, newTag());
    return compactRecord({
      id: idOfDialog(dialog),
      callId: dialog.callId,
      localTag: dialog.localTag,
      remoteTag: dialog.remoteTag,
      event: ctx.pkg!.name,
      eventId: ctx.eventId,
      resource: ctx.resource,
      domain: ctx.domain,
      accountId: ctx.accountId,
      // An authenticated device is the watcher, however From reads (security.md §3.2); a peer vouches for From.
      watcherUser: watcherOf(ctx).user,
      watcherDomain: watcherOf(ctx).domain,
      watcherUri: dialog.remoteUri,
      resourceUri: dialog.localUri,
      contact: dialog.remoteTarget,
      routeSet: dialog.routeSet,
      flow: flowRecord(incoming.flow, ctx.identity),
      localCseq: dialog.localCseq,
      remoteCseq: dialog.remoteCseq,
      version: 0,
      acceptTypes: [...req.accept],
      grantedExpires: ctx.granted,
      expiresAt: now + ctx.granted * 1000,
      createdAt: now,
      refreshedAt: now,
      strikes: 0,
      lastNotify: null,
      node: this.opts.nodeName,
      storedCseq: dialog.localCseq,
      wheelSlot: -1,
      state: SubscriptionState.Pending,
      identity: ctx.identity,
      reached: false,
    }, this.strings);
  }

  /** 200 (not 202: RFC 6665 §8.3.1 deprecates it) with our To tag, our Contact and the granted Expires (§3.1.1). */
  private respondOk(incoming: IncomingRequest, rec: SubscriptionRecord, granted: number): void {
    const contact = localContact(incoming.flow, this.opts.publicHost, rec.domain);
    incoming.respond(200, {
      toTag: rec.localTag,
      headers: [
        ['Contact', `<${contact.uri}>`],
        ['Expires', String(granted)],
      ],
    });
  }

  /**
   * A phone that rebooted subscribes again with a new Call-ID: its older subscription to the same resource, event and
   * event id is dropped without a NOTIFY, so it never receives two streams (sip-behaviour.md, as Kazoo and Kamailio do).
   * "The same phone" is the same authenticated device, or the same trusted peer for the same From, never From alone
   * (security.md §2): without an authenticating policy both sides have no identity and From decides, as before; a
   * subscription restored after a restart has no identity and is replaced by nothing authenticated.
   */
  private replaceOlder(rec: LiveSubscription): void {
    // The live set holds every subscription that has not expired (restore() loads them all), so it is searched in
    // memory: a store query here would cost a flush and a SQLite read on every new SUBSCRIBE.
    const watchers = this.subs.watchers(resourceKey(rec.resource, rec.domain));
    if (!watchers) return;
    // Deleting from a Set while iterating it is safe: removed entries are not visited.
    for (const old of watchers) {
      if (old.id === rec.id || old.event !== rec.event || old.eventId !== rec.eventId) continue;
      if (old.watcherUser !== rec.watcherUser || old.watcherDomain !== rec.watcherDomain) continue;
      if (!sameIdentity(old.identity, rec.identity)) continue;
      // No final NOTIFY, and nothing that waited behind one in flight.
      this.drop(old, 'replaced');
      this.logger.debug({ id: old.id, by: rec.id }, 'subscription replaced');
    }
  }

  // ---- live set ----

  /** Callers write the record themselves when it needs writing (after its first NOTIFY, or not at all on restore). */
  private addLive(rec: LiveSubscription): void {
    this.subs.add(rec);
    this.bound.note(rec);
    this.expiry.schedule(rec, rec.expiresAt);
  }

  /** Takes a subscription out of the live set and the store; false when it was not live. The caller moves its state. */
  private removeLive(rec: LiveSubscription, reason: RemovalReason): boolean {
    if (!this.subs.remove(rec)) return false;
    this.bound.forget(rec);
    this.expiry.cancel(rec);
    try {
      this.opts.store.subscriptions.delete(rec.id);
    } catch (err) {
      this.logger.error({ err: (err as Error).message, id: rec.id }, 'could not delete subscription from the store');
    }
    this.logger.debug({ id: rec.id, reason }, 'subscription removed');
    this.feed.emit({ kind: 'subscription-removed', subscription: rec, reason });
    return true;
  }

  /** Ends a live subscription with a final NOTIFY (after any NOTIFY in flight). */
  private terminate(rec: LiveSubscription, reason: string | undefined, removal: RemovalReason): void {
    if (!this.removeLive(rec, removal)) return;
    transition(rec, SubscriptionState.Terminating);
    this.sendNotify(rec, true, reason);
  }

  /** Ends a live subscription without a final NOTIFY (replaced, or the watcher is given up on); false when it was not live. */
  private drop(rec: LiveSubscription, reason: RemovalReason): boolean {
    if (!this.removeLive(rec, reason)) return false;
    transition(rec, SubscriptionState.Terminated);
    return true;
  }

  /** RFC 6665 §4.2.2: a subscription not refreshed in time ends with `terminated;reason=timeout`. */
  private onExpiry(rec: LiveSubscription): void {
    if (!this.subs.isLive(rec)) return;
    // The deadline may have moved since it was filed; the record is the authority.
    if (rec.expiresAt > this.opts.clock.now()) {
      this.expiry.schedule(rec, rec.expiresAt);
      return;
    }
    this.terminate(rec, 'timeout', 'expired');
  }

  private persist(rec: LiveSubscription): void {
    if (!this.subs.isLive(rec)) return;
    try {
      this.opts.store.subscriptions.put(rec);
      rec.storedCseq = rec.localCseq;
    } catch (err) {
      this.logger.error({ err: (err as Error).message, id: rec.id }, 'could not store subscription');
    }
  }

  // ---- NOTIFY ----

  /**
   * Fan-out of an announced change: every live watcher of the resource for each changed package. The presentity
   * service announces only packages whose aggregated state really changed (or a forced reset), so no second check here.
   */
  private onResourceChange(change: PresentityChange): void {
    if (this.disposed) return;
    const watchers = this.subs.watchers(change.resource);
    if (!watchers) return;
    this.pacer.fanOut(watchers.values(), change.events);
  }

  /** Sends now, or queues behind the NOTIFY in flight: updates coalesce into one, a final one supersedes them. */
  private sendNotify(rec: LiveSubscription, final: boolean, reason: string | undefined): void {
    if (this.disposed) return;
    const flight = this.flights.get(rec.id);
    if (flight) {
      // A final NOTIFY waits: the subscription is `terminating` (finish sends it).
      if (final) flight.finalReason = reason;
      else flight.update = true;
      return;
    }
    const fresh: Flight = { rec, final, update: false, finalReason: undefined, transport: undefined, flowOnly: false, holdsSlot: false };
    this.flights.set(rec.id, fresh);
    this.paced(fresh, final, reason);
  }

  /** Sends now when the window and the watcher's source's share of it have room, else waits its turn (notify-pacer.ts). */
  private paced(flight: Flight, final: boolean, reason: string | undefined): void {
    if (this.pacer.hasRoom(sourceOf(flight.rec))) {
      this.transmit(flight, final, reason);
      return;
    }
    flight.deferred = { final, reason };
    this.pacer.defer(flight);
  }

  /**
   * Renders the current state for this watcher and sends it. CSeq rises by one (RFC 3261 §12.2.1.1) and the document
   * version by one (RFC 4235 §4.1); the store is written when they run SEQUENCE_LEASE ahead of it (see LiveSubscription).
   */
  private transmit(flight: Flight, final: boolean, reason: string | undefined): void {
    const rec = flight.rec;
    const o = this.opts;
    flight.final = final;
    let request: SipRequest;
    let destination: Destination;
    let pkg: EventPackage | undefined;
    let state: ResourceState;
    let entity: string;
    try {
      pkg = o.registry.get(rec.event);
      if (!pkg) throw new PistonError('unknown_event_package', `no event package ${rec.event}`);
      const key = resourceKey(rec.resource, rec.domain);
      state = o.presentity.state(key, rec.event);
      entity = this.strings.intern(entityOf(key));
      const body = pkg.render(state, { entity, version: rec.version, allDialogs: o.allDialogs });
      const cseq = rec.localCseq + 1;
      const remaining = Math.max(0, Math.ceil((rec.expiresAt - o.clock.now()) / 1000));
      const contact = localContact(rec.flow, o.publicHost, rec.domain);
      destination = notifyDestination(rec);
      flight.transport = transportOfDestination(destination);
      // A bare flow: no route elsewhere and no Contact to fall back on.
      flight.flowOnly = 'remoteAddress' in destination;
      request = buildNotify({
        dialog: { ...dialogOf(rec), localCseq: cseq },
        event: rec.event,
        eventId: rec.eventId,
        subscriptionState: subscriptionStateValue(final, reason, remaining),
        contentType: pkg.contentType,
        body,
        contact: contact.uri,
        transport: flight.transport,
        sentBy: contact.hostPort,
      });
      rec.localCseq = cseq;
    } catch (err) {
      this.logger.error({ err: (err as Error).message, id: rec.id }, 'NOTIFY could not be built');
      this.flights.delete(rec.id);
      // Its final NOTIFY cannot go: nothing more will.
      if (rec.state === SubscriptionState.Terminating) transition(rec, SubscriptionState.Terminated);
      return;
    }
    const last = rec.lastNotify;
    if (last instanceof SentNotify) last.record(rec.localCseq, pkg, state, entity, rec.version, o.allDialogs);
    else rec.lastNotify = new SentNotify(rec.localCseq, pkg, state, entity, rec.version, o.allDialogs);
    const sentVersion = rec.version;
    rec.version = nextVersion(rec.version);
    if (rec.localCseq - rec.storedCseq >= SEQUENCE_LEASE) this.persist(rec);
    this.feed.emit({ kind: 'notify-sent', subscription: rec, final, cseq: rec.localCseq, version: sentVersion });
    let pending: Promise<ClientResult>;
    this.pacer.take(flight);
    try {
      pending = o.channel.request(request, destination);
    } catch (err) {
      pending = Promise.resolve({ kind: 'transport-error', error: err as Error });
    }
    pending.then(
      (result) => this.settle(flight, result),
      (err: unknown) => this.settle(flight, { kind: 'transport-error', error: err as Error }),
    );
  }

  /** A NOTIFY transaction ended: its slot in the window goes to the next waiting NOTIFY. */
  private settle(flight: Flight, result: ClientResult): void {
    this.pacer.release(flight);
    this.finish(flight, result);
    this.pacer.pump();
  }

  /** Applies the failure policy to a NOTIFY's outcome, then sends what waited behind it. */
  private finish(flight: Flight, result: ClientResult): void {
    const rec = flight.rec;
    // Only a NOTIFY that was built and handed over is settled, so its transport is known.
    const verdict = judgeNotifyResult(result, { transport: flight.transport!, flowOnly: flight.flowOnly, answeredBefore: rec.reached });
    if (result.kind === 'response') {
      if (rec.lastNotify) rec.lastNotify.reply = result.response.status;
      rec.reached = true;
    }
    this.feed.emit({
      kind: 'notify-answered',
      subscription: rec,
      answer: verdict.kind === 'ok' ? { ok: true, status: verdict.status } : { ok: false, failure: verdict.failure },
      cseq: rec.localCseq,
    });
    const live = this.subs.isLive(rec);
    let removed = false;
    if (live && !this.disposed) {
      const strikesBefore = rec.strikes;
      if (verdict.kind === 'ok') rec.strikes = 0;
      else if (verdict.kind === 'strike') {
        rec.strikes++;
        this.logStrike(rec, verdict.failure);
        if (rec.strikes >= MAX_STRIKES) removed = this.drop(rec, verdict.reason);
      } else if (verdict.kind === 'wait') {
        this.logger.debug({ id: rec.id, failure: verdict.failure }, 'NOTIFY not sent: the watcher\'s flow is gone; waiting for its refresh');
      } else {
        this.logger.debug({ id: rec.id, failure: verdict.failure, reason: verdict.reason }, 'NOTIFY failed: removing');
        removed = this.drop(rec, verdict.reason);
      }
      // The answer's status is kept in memory (the admin API lists the live set) and reaches the store with the next
      // write; only a change of strikes is written now, so a NOTIFY costs one store write, not two.
      if (!removed && rec.strikes !== strikesBefore) this.persist(rec);
    }
    if (this.disposed) {
      this.flights.delete(rec.id);
      return;
    }
    // A watcher that refused or lost the subscription gets nothing more, not even the final NOTIFY.
    const giveUp = removed || verdict.kind === 'remove';
    if (rec.state === SubscriptionState.Terminating) {
      // The final NOTIFY waited behind this one: it goes now. Once it is answered (or given up), the end.
      if (!flight.final && !giveUp) {
        this.paced(flight, true, flight.finalReason);
        return;
      }
      transition(rec, SubscriptionState.Terminated);
    } else if (flight.update && !giveUp && this.subs.isLive(rec)) {
      flight.update = false;
      // Through the pacer like any other NOTIFY, so a source's answers (or timeouts) cannot carry it past its share.
      this.paced(flight, false, undefined);
      return;
    }
    this.flights.delete(rec.id);
  }

  /**
   * A strike in the log: a challenge (401/407, a Cisco phone wanting credentials on NOTIFY, security.md §2.7) once per
   * subscription at info, so an operator learns why such phones' lamps stop without a line per NOTIFY; others at debug.
   */
  private logStrike(rec: LiveSubscription, failure: NotifyFailure): void {
    if ((failure === 401 || failure === 407) && !this.challengeLogged.has(rec)) {
      this.challengeLogged.add(rec);
      this.logger.info(
        { id: rec.id, resource: rec.resource, domain: rec.domain, watcher: `${rec.watcherUser}@${rec.watcherDomain}`, status: failure },
        'a watcher challenged our NOTIFY; the subscription is kept until three NOTIFYs in a row fail',
      );
      return;
    }
    this.logger.debug({ id: rec.id, failure, strikes: rec.strikes }, 'NOTIFY failed: strike');
  }
}

/** The watcher to record: the authenticated device as `user@realm`, else From's user and host. */
function watcherOf(ctx: SubscribeContext): { user: string; domain: string } {
  const id = ctx.identity;
  if (id?.kind === 'device' && id.user !== undefined && id.realm !== undefined) return { user: id.user, domain: id.realm.toLowerCase() };
  return { user: ctx.watcherUser, domain: ctx.watcherDomain };
}

function sameIdentity(a: RequestIdentity | undefined, b: RequestIdentity | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.kind === b.kind && a.id === b.id && a.accountId === b.accountId;
}
