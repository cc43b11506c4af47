import type { AccountResolver } from '../../accounts/account-resolver.js';
import type { EventPackage, EventPackageRegistry } from '../../events/event-package.js';
import type { PresenceFeed } from '../../feed/presence-feed.js';
import type { Logger } from '../../lib/logger.js';
import { formatUri } from '../../sip/message/uri.js';
import { policyAnswer, type PolicyResponse, type RequestIdentity } from '../../sip/ua/request-policy.js';
import type { IncomingRequest } from '../../sip/ua/user-agent-core.js';
import type { LedgerOutcome, PublicationLedger } from '../publication-ledger.js';
import { STORE_REFUSAL_WHY, STORE_RETRY_AFTER_SECONDS } from '../store-refusal.js';
import { chooseAction, type PublishAction } from './publish-action.js';
import { readPackage } from './publish-event.js';
import { grantExpires } from './publish-expires.js';
import { readPrecondition } from './publish-precondition.js';
import { PublishRejection, reject } from './publish-rejection.js';
import type { PublishPolicy } from './publish-policy.js';
import { readTarget, type PublishTarget } from './publish-target.js';

export interface PublishHandlerDeps {
  registry: EventPackageRegistry;
  accounts: AccountResolver;
  ledger: PublicationLedger;
  logger: Logger;
  /** Overrides every package's minimum PUBLISH lifetime (seconds). */
  minExpires?: number;
  /** Whether the store takes writes now (`PresenceStateStore.writeHealth().writable`). */
  storeWritable(): boolean;
  /** Authentication and authorization of PUBLISH (publish-policy.ts); default none: everything allowed. */
  policy?: PublishPolicy | undefined;
  /** Told of each accepted PUBLISH and its publisher (the history), when anyone listens. */
  feed?: Pick<PresenceFeed, 'emit' | 'listened'> | undefined;
}

/**
 * PUBLISH (RFC 3903 §6), as the ESC processes it: target, the policy's authentication, event package, precondition,
 * expiry, body, the policy's authorization, whether a new publication can be stored, then the change. Each step
 * either yields what the next needs or a rejection that ends the request. Everything runs synchronously, so changes
 * to one resource apply one at a time in arrival order. The 200 goes out before the change is announced.
 */
export function handlePublish(incoming: IncomingRequest, deps: PublishHandlerDeps): void {
  const req = incoming.request;
  const fail = (r: PublishRejection): void => reject(incoming, r, deps.logger);

  const target = readTarget(req, deps.accounts);
  if (target instanceof PublishRejection) return fail(target);
  const identity = authenticate(incoming, target, deps);
  if (identity === REFUSED) return;
  const pkg = readPackage(req, deps.registry);
  if (pkg instanceof PublishRejection) return fail(pkg);
  const precondition = readPrecondition(req, target.resource, pkg.name, (r, e, t) => deps.ledger.find(r, e, t));
  if (precondition instanceof PublishRejection) return fail(precondition);
  const bounds = deps.minExpires === undefined ? pkg.expires : { ...pkg.expires, min: Math.min(deps.minExpires, pkg.expires.default) };
  const expires = grantExpires(req, bounds);
  if (expires instanceof PublishRejection) return fail(expires);
  const action = chooseAction(req, target.resource, pkg, precondition, expires);
  if (action instanceof PublishRejection) return fail(action);
  if (!authorize(incoming, target, pkg.name, action, identity, deps)) return;
  // Only a new publication waits for the store (store-refusal.ts): one already held is modified, refreshed or
  // removed in memory as before, and reaches the store once a flush succeeds again.
  if (action.kind === 'create' && !deps.storeWritable()) {
    return fail(new PublishRejection(503, STORE_REFUSAL_WHY, [['Retry-After', String(STORE_RETRY_AFTER_SECONDS)]]));
  }

  const outcome = perform(action, pkg, deps.ledger);
  // RFC 3903 §6: the 200 carries the entity-tag to use next and the granted lifetime.
  incoming.respond(200, { headers: [['SIP-ETag', outcome.etag], ['Expires', String(action.kind === 'remove' ? 0 : action.expires)]] });
  deps.logger.debug({ resource: target.resource, event: pkg.name, action: action.kind, etag: outcome.etag }, 'PUBLISH accepted');
  if (deps.feed?.listened) tellAccepted(incoming, target.resource, pkg.name, action, outcome.etag, deps.feed);
  outcome.announce();
}

const ACTION_WORD = { create: 'new', refresh: 'refresh', modify: 'modify', remove: 'remove' } as const;

/** The `publication` feed event: what was done, and who did it (operator-ux.md: "who published this state?"). */
function tellAccepted(incoming: IncomingRequest, resource: string, event: string, action: PublishAction, etag: string, feed: Pick<PresenceFeed, 'emit'>): void {
  const req = incoming.request;
  let from = '';
  try {
    from = formatUri(req.from.uri);
  } catch {
    // already parsed by the target step; a From that fails here is only not shown
  }
  feed.emit({
    kind: 'publication',
    resource,
    event,
    action: ACTION_WORD[action.kind],
    etag,
    expires: action.kind === 'remove' ? 0 : action.expires,
    publisher: {
      source: hostPort(incoming.flow.remoteAddress, incoming.flow.remotePort),
      transport: incoming.flow.protocol,
      from,
      userAgent: req.headers.get('user-agent') ?? null,
      callId: req.callId,
    },
    document: action.kind === 'create' || action.kind === 'modify' ? action.body.doc : action.existing.view.doc,
  });
}

/** `host:port`, an IPv6 literal bracketed (RFC 3261 §25.1 hostport). */
function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Marks a request the policy has already answered. */
const REFUSED: unique symbol = Symbol('refused');

/** The policy's authentication, once the target's account is known (its realm is the one a challenge names). */
function authenticate(incoming: IncomingRequest, target: PublishTarget, deps: PublishHandlerDeps): RequestIdentity | undefined | typeof REFUSED {
  const hook = deps.policy?.authenticate;
  if (!hook) return undefined;
  const verdict = hook({ request: incoming.request, flow: incoming.flow, accountId: target.accountId, domain: target.domain, inDialog: false });
  if (verdict.ok) return verdict.identity;
  refuse(incoming, verdict.response, 'authentication', deps.logger);
  return REFUSED;
}

/** The policy's authorization, after every check and before any change: false when it refused (and answered). */
function authorize(
  incoming: IncomingRequest,
  target: PublishTarget,
  event: string,
  action: PublishAction,
  identity: RequestIdentity | undefined,
  deps: PublishHandlerDeps,
): boolean {
  const hook = deps.policy?.authorizePublish;
  if (!hook) return true;
  const verdict = hook({
    request: incoming.request,
    flow: incoming.flow,
    identity,
    accountId: target.accountId,
    resource: target.resource,
    event,
    action: action.kind,
  });
  if (verdict.ok) return true;
  refuse(incoming, verdict.response, 'authorization', deps.logger);
  return false;
}

/** A policy's refusal goes out as the policy wrote it (no Warning of ours: a challenge must not say why). */
function refuse(incoming: IncomingRequest, response: PolicyResponse, step: string, logger: Logger): void {
  logger.debug({ status: response.status, why: `refused by policy: ${step}` }, 'PUBLISH rejected');
  incoming.respond(response.status, policyAnswer(response));
}

function perform(action: PublishAction, pkg: EventPackage, ledger: PublicationLedger): LedgerOutcome {
  switch (action.kind) {
    case 'create':
      return ledger.create(action.resource, pkg, action.body, action.expires);
    case 'modify':
      return ledger.modify(action.existing, pkg, action.body, action.expires);
    case 'refresh':
      return ledger.refresh(action.existing, action.expires);
    case 'remove':
      // The removed entity-tag is echoed: it names what went, and it no longer matches anything.
      return { etag: action.existing.etag, announce: ledger.remove(action.existing) };
  }
}
