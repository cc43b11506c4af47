import type { SipRequest } from '../../sip/message/message.js';
import type { Flow } from '../../sip/transport/flow.js';
import type { AuthorizationResult, RequestIdentity } from '../../sip/ua/request-policy.js';
import type { LimitCounters } from './limit-counters.js';
import { peerSourceOf, type TrustedPeerLookup } from './trusted-peers.js';

/** What the quota reads of a SUBSCRIBE at authorization (a subset of the notifier's SubscribeAuthorizationInput). */
export interface QuotaSubscribeInput {
  readonly request: SipRequest;
  readonly flow: Flow;
  readonly identity: RequestIdentity | undefined;
  readonly event: string;
  readonly eventId: string | null;
  readonly resource: string;
  readonly domain: string;
  readonly watcherUser: string;
  readonly watcherDomain: string;
  readonly inDialog: boolean;
  readonly expires: number;
}

/** What the quota reads of a subscription the notifier created or removed (a subset of its record). */
export interface QuotaSubscription {
  readonly id: string;
  readonly callId: string;
  readonly remoteTag: string;
  readonly event: string;
  readonly eventId: string | null;
  readonly resource: string;
  readonly domain: string;
}

export interface SubscriptionQuotaOptions {
  /** Subscriptions (distinct resource, event and id) one watcher device may hold; 0: no cap. */
  perWatcher: number;
  /** Live subscriptions in all, beyond which new ones get 503; 0: no ceiling. */
  ceiling: number;
  /** Live subscriptions now (the notifier's count, O(1)). */
  live: () => number;
  /** Retry-After of the ceiling's 503, seconds. */
  retryAfterS: number;
  trusted: TrustedPeerLookup;
  counters: LimitCounters;
}

/** Requests authorized but not yet created, by Call-ID and From tag: only ever a few, bounded against leaks. */
const MAX_PENDING = 1024;

export const TOO_MANY_SUBSCRIPTIONS = 'Too many subscriptions';

/**
 * Subscriptions per watcher device (security.md §4.2, R3: 500; 403 "Too many subscriptions", never a silent drop, or
 * the phone retries forever) and a global ceiling (503 + Retry-After before memory runs out, §4.2).
 *
 * The watcher is the authenticated device when the policy knows it, else the source address with From (a trusted
 * peer's watchers are the peer's business: it skips the cap). Counted are distinct (resource, event, id) targets,
 * so a rebooted phone whose new SUBSCRIBE replaces its old one is not refused at its cap. The count moves with the
 * notifier's own events (`created`, `removed`: O(1) each), never by scanning the live set; subscriptions restored at
 * start are not counted until they are renewed in a new dialog.
 */
export class SubscriptionQuota {
  /** Per watcher key: how many live subscriptions it holds per target. */
  private readonly byWatcher = new Map<string, Map<string, number>>();
  /** Per counted subscription id: its watcher and target, to take it off again. */
  private readonly bySubscription = new Map<string, { watcher: string; target: string }>();
  private readonly pending = new Map<string, string>();

  constructor(private readonly opts: SubscriptionQuotaOptions) {}

  /** The authorization hook: after every check of the SUBSCRIBE, before anything is created. */
  authorize(input: QuotaSubscribeInput): AuthorizationResult {
    if (input.inDialog || input.expires === 0) return ALLOWED;
    const { ceiling, perWatcher, counters } = this.opts;
    if (ceiling > 0 && this.opts.live() >= ceiling) {
      counters['subscription-ceiling']++;
      return { ok: false, response: { status: 503, headers: [['Retry-After', String(this.opts.retryAfterS)]] } };
    }
    if (perWatcher <= 0) return ALLOWED;
    const watcher = this.watcherOf(input);
    if (watcher === undefined) return ALLOWED;
    const target = targetKey(input.resource, input.domain, input.event, input.eventId);
    const held = this.byWatcher.get(watcher);
    if (held !== undefined && held.size >= perWatcher && !held.has(target)) {
      counters['subscriptions-per-watcher']++;
      return { ok: false, response: { status: 403, reason: TOO_MANY_SUBSCRIPTIONS } };
    }
    const key = pendingKey(input.request.callId, input.request.from.params.get('tag') ?? '');
    if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
    this.pending.set(key, watcher);
    return ALLOWED;
  }

  /** The notifier created a subscription (feed `subscription-created`). */
  created(sub: QuotaSubscription): void {
    const key = pendingKey(sub.callId, sub.remoteTag);
    const watcher = this.pending.get(key);
    if (watcher === undefined) return;
    this.pending.delete(key);
    const target = targetKey(sub.resource, sub.domain, sub.event, sub.eventId);
    let held = this.byWatcher.get(watcher);
    if (held === undefined) {
      held = new Map();
      this.byWatcher.set(watcher, held);
    }
    held.set(target, (held.get(target) ?? 0) + 1);
    this.bySubscription.set(sub.id, { watcher, target });
  }

  /** The notifier removed a subscription (feed `subscription-removed`), for whatever reason. */
  removed(sub: Pick<QuotaSubscription, 'id'>): void {
    const counted = this.bySubscription.get(sub.id);
    if (counted === undefined) return;
    this.bySubscription.delete(sub.id);
    const held = this.byWatcher.get(counted.watcher);
    if (held === undefined) return;
    const n = (held.get(counted.target) ?? 1) - 1;
    if (n > 0) held.set(counted.target, n);
    else held.delete(counted.target);
    if (held.size === 0) this.byWatcher.delete(counted.watcher);
  }

  /** Distinct targets a watcher key holds (tests). */
  heldBy(watcher: string): number {
    return this.byWatcher.get(watcher)?.size ?? 0;
  }

  /** The watcher key, or undefined for a trusted peer (no cap). */
  private watcherOf(input: QuotaSubscribeInput): string | undefined {
    const identity = input.identity;
    if (identity?.kind === 'peer') return undefined;
    if (identity?.kind === 'device') return `device:${identity.id}`;
    const flow = input.flow;
    if (this.opts.trusted(peerSourceOf(flow)).length > 0) return undefined;
    return `source:${flow.remoteAddress}|${input.watcherUser}@${input.watcherDomain}`;
  }
}

const ALLOWED: AuthorizationResult = Object.freeze({ ok: true });

function targetKey(resource: string, domain: string, event: string, eventId: string | null): string {
  return `${resource}@${domain}|${event}|${eventId ?? ''}`;
}

function pendingKey(callId: string, fromTag: string): string {
  return `${callId}\n${fromTag}`;
}
