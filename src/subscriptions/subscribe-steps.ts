import type { AccountResolver } from '../accounts/account-resolver.js';
import type { EventPackage, EventPackageRegistry } from '../events/event-package.js';
import { STORE_REFUSAL_WHY, STORE_RETRY_AFTER_SECONDS } from '../presentity/store-refusal.js';
import { dialogId } from '../sip/dialog/dialog-state.js';
import type { SipRequest } from '../sip/message/message.js';
import type { Flow } from '../sip/transport/flow.js';
import { policyAnswer, type PolicyResponse, type RequestIdentity } from '../sip/ua/request-policy.js';
import type { SubscriptionRecord } from '../store/records.js';
import type { SubscribePolicy } from './subscribe-policy.js';

/**
 * The checks a SUBSCRIBE passes before the notifier acts on it (RFC 6665 §4.2.1), one small named step each, in
 * order. A step either fills in part of the context or returns the rejection to answer with.
 */

/** What the steps learn about a SUBSCRIBE. Fields are filled in step by step; `act` reads them all. */
export interface SubscribeContext {
  readonly request: SipRequest;
  /** The flow it came on. */
  readonly flow: Flow;
  /** Who the policy's authentication said sent it (undefined without one). */
  identity: RequestIdentity | undefined;
  pkg: EventPackage | undefined;
  /** The Event header's `id` parameter (RFC 6665 §8.2.1), null when absent. */
  eventId: string | null;
  /** Lower-cased user part of the watched URI. */
  resource: string;
  /** Lower-cased host of the watched URI. */
  domain: string;
  accountId: string | null;
  watcherUser: string;
  /** Lower-cased. */
  watcherDomain: string;
  /** The live subscription this in-dialog SUBSCRIBE belongs to; undefined for a request outside a dialog. */
  existing: DialogRecord | undefined;
  /** Granted expiry in seconds; 0 for unsubscribe or fetch. */
  granted: number;
}

/** A live subscription as the steps see it: the stored record and who created it (never stored). */
export type DialogRecord = SubscriptionRecord & { readonly identity?: RequestIdentity | undefined };

export interface Rejection {
  status: number;
  /** For the log. */
  why: string;
  headers?: [string, string][];
  /** Reason phrase; default the status's own. */
  reason?: string;
}

export interface StepDeps {
  registry: EventPackageRegistry;
  accounts: AccountResolver;
  /** A live subscription by dialog id. */
  findDialog(id: string): DialogRecord | undefined;
  /** Whether the store takes writes now (`PresenceStateStore.writeHealth().writable`). */
  storeWritable(): boolean;
  /** The stack's policy hooks for SUBSCRIBE; absent ones allow. */
  policy?: SubscribePolicy | undefined;
}

export type SubscribeStep = (ctx: SubscribeContext, deps: StepDeps) => Rejection | undefined;

export function newSubscribeContext(request: SipRequest, flow: Flow): SubscribeContext {
  return {
    request,
    flow,
    identity: undefined,
    pkg: undefined,
    eventId: null,
    resource: '',
    domain: '',
    accountId: null,
    watcherUser: '',
    watcherDomain: '',
    existing: undefined,
    granted: 0,
  };
}

/** RFC 6665 §4.2.1.1 / §8.2.2: an event package we do not serve is 489, listing the ones we do. */
export const checkEventPackage: SubscribeStep = (ctx, deps) => {
  const event = ctx.request.event;
  const pkg = event && deps.registry.get(event.package);
  if (!event || !pkg) {
    return {
      status: 489,
      why: `event package ${event?.package ?? '(none)'} not served`,
      headers: [['Allow-Events', deps.registry.names().join(', ')]],
    };
  }
  ctx.pkg = pkg;
  ctx.eventId = event.id ?? null;
  return undefined;
};

/** RFC 6665 §3.1.1 (RFC 3261 §21.4.7): an Accept header that leaves out the package's body type is 406. */
export const checkAccept: SubscribeStep = (ctx, deps) => {
  const pkg = ctx.pkg!;
  if (deps.registry.accepts(pkg.name, ctx.request.accept)) return undefined;
  return { status: 406, why: `Accept does not include ${pkg.contentType}`, headers: [['Accept', pkg.contentType]] };
};

/**
 * Who watches whom (notifier-contract.md, keys): the watched user is the Request-URI's user part, or To's when a proxy
 * left the Request-URI without one; the watcher is From's. Either missing is 400.
 */
export const checkParties: SubscribeStep = (ctx) => {
  const req = ctx.request;
  const ruri = req.requestUri;
  const watched = ruri.user ? ruri : req.to.uri;
  if (!watched.user) return { status: 400, why: 'no user to watch in Request-URI or To' };
  const from = req.from.uri;
  if (!from.user) return { status: 400, why: 'no user in From' };
  ctx.resource = watched.user.toLowerCase();
  ctx.domain = watched.host.toLowerCase();
  ctx.watcherUser = from.user;
  ctx.watcherDomain = from.host.toLowerCase();
  return undefined;
};

/** The watched domain selects the account by its realm (sip-behaviour.md); none serves it: 404. */
export const checkAccount: SubscribeStep = (ctx, deps) => {
  const match = deps.accounts.resolve(ctx.domain);
  if (!match) return { status: 404, why: `no account for domain ${ctx.domain}` };
  ctx.accountId = match.accountId;
  return undefined;
};

/**
 * A SUBSCRIBE with a To tag belongs to a dialog (RFC 6665 §4.2.1.2): unknown, or not the subscription it names (event
 * and id), is 481 (RFC 3261 §12.2.2); a CSeq that does not rise is 500 (RFC 3261 §12.2.2).
 */
export const checkDialog: SubscribeStep = (ctx, deps) => {
  const req = ctx.request;
  const toTag = req.to.params.get('tag');
  if (toTag === undefined) return undefined;
  const id = dialogId(req.callId, toTag ?? '', req.from.params.get('tag') ?? '');
  const rec = deps.findDialog(id);
  if (!rec || rec.event !== ctx.pkg!.name || rec.eventId !== ctx.eventId) {
    return { status: 481, why: `no subscription ${id} for ${ctx.pkg!.name}${ctx.eventId === null ? '' : ';id=' + ctx.eventId}` };
  }
  const cseq = req.cseq.seq;
  if (cseq <= rec.remoteCseq) return { status: 500, why: `CSeq ${cseq} does not rise above ${rec.remoteCseq}` };
  ctx.existing = rec;
  return undefined;
};

/**
 * Expires (RFC 6665 §3.1.1, §4.2.1.1): absent takes the package default; above the maximum it is lowered; below the
 * minimum (but not 0) it is 423 with Min-Expires; 0 ends (or, outside a dialog, fetches). Never more than asked.
 */
export const checkExpires: SubscribeStep = (ctx) => {
  const bounds = ctx.pkg!.expires;
  const asked = ctx.request.expires;
  if (asked === undefined) {
    ctx.granted = bounds.default;
    return undefined;
  }
  if (asked === 0) {
    ctx.granted = 0;
    return undefined;
  }
  if (asked < bounds.min) {
    return { status: 423, why: `Expires ${asked} below ${bounds.min}`, headers: [['Min-Expires', String(bounds.min)]] };
  }
  ctx.granted = Math.min(asked, bounds.max);
  return undefined;
};

/** A policy's refusal as a rejection: its status, reason phrase and headers (a challenge), nothing of ours added. */
function refusedBy(response: PolicyResponse, why: string): Rejection {
  return { status: response.status, why, ...policyAnswer(response) };
}

/**
 * The policy's authentication (RFC 3261 §22), once the account (whose realm a challenge names) and the dialog are
 * known, before the expiry is looked at: an unauthenticated request learns nothing more than the 489/406/404 that
 * any OPTIONS or unknown domain tells. A refusal answers with the policy's response (401 with a challenge).
 */
export const checkAuthentication: SubscribeStep = (ctx, deps) => {
  const authenticate = deps.policy?.authenticate;
  if (!authenticate) return undefined;
  const verdict = authenticate({
    request: ctx.request,
    flow: ctx.flow,
    accountId: ctx.accountId,
    domain: ctx.domain,
    inDialog: ctx.existing !== undefined,
    dialog: ctx.existing === undefined ? undefined : { flow: ctx.existing.flow, identity: ctx.existing.identity },
  });
  if (!verdict.ok) return refusedBy(verdict.response, 'refused by policy: authentication');
  ctx.identity = verdict.identity;
  return undefined;
};

/**
 * The policy's authorization, once every check of the request itself has passed: nothing has been created, sent or
 * stored, and a refused watcher never learns whether the store takes writes (the next step).
 */
export const checkAuthorization: SubscribeStep = (ctx, deps) => {
  const authorize = deps.policy?.authorizeSubscribe;
  if (!authorize) return undefined;
  const verdict = authorize({
    request: ctx.request,
    flow: ctx.flow,
    identity: ctx.identity,
    accountId: ctx.accountId,
    event: ctx.pkg!.name,
    eventId: ctx.eventId,
    resource: ctx.resource,
    domain: ctx.domain,
    watcherUser: ctx.watcherUser,
    watcherDomain: ctx.watcherDomain,
    inDialog: ctx.existing !== undefined,
    expires: ctx.granted,
  });
  return verdict.ok ? undefined : refusedBy(verdict.response, 'refused by policy: authorization');
};

/**
 * A new subscription while the store cannot write is 503 with Retry-After (RFC 3261 §21.5.4, §20.33): acknowledged,
 * it would be gone after a restart without the watcher knowing (presentity/store-refusal.ts). Last, so that a request
 * with something else wrong gets that answer, and so that refreshes, unsubscribes and fetches pass: their dialog is
 * held in memory and works as before, and a fetch keeps nothing.
 */
export const checkStoreWritable: SubscribeStep = (ctx, deps) => {
  if (ctx.existing !== undefined || ctx.granted === 0 || deps.storeWritable()) return undefined;
  return {
    status: 503,
    why: STORE_REFUSAL_WHY,
    headers: [
      ['Retry-After', String(STORE_RETRY_AFTER_SECONDS)],
      ['Warning', `399 piston "${STORE_REFUSAL_WHY}"`],
    ],
  };
};

/** The pipeline, in the order the checks are made. */
export const SUBSCRIBE_STEPS: readonly SubscribeStep[] = [
  checkEventPackage,
  checkAccept,
  checkParties,
  checkAccount,
  checkDialog,
  checkAuthentication,
  checkExpires,
  checkAuthorization,
  checkStoreWritable,
];
