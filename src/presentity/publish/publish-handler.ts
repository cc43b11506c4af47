import type { AccountResolver } from '../../accounts/account-resolver.js';
import type { EventPackage, EventPackageRegistry } from '../../events/event-package.js';
import type { Logger } from '../../lib/logger.js';
import type { IncomingRequest } from '../../sip/ua/user-agent-core.js';
import type { LedgerOutcome, PublicationLedger } from '../publication-ledger.js';
import { STORE_REFUSAL_WHY, STORE_RETRY_AFTER_SECONDS } from '../store-refusal.js';
import { chooseAction, type PublishAction } from './publish-action.js';
import { readPackage } from './publish-event.js';
import { grantExpires } from './publish-expires.js';
import { readPrecondition } from './publish-precondition.js';
import { PublishRejection, reject } from './publish-rejection.js';
import { readTarget } from './publish-target.js';

export interface PublishHandlerDeps {
  registry: EventPackageRegistry;
  accounts: AccountResolver;
  ledger: PublicationLedger;
  logger: Logger;
  /** Overrides every package's minimum PUBLISH lifetime (seconds). */
  minExpires?: number;
  /** Whether the store takes writes now (`PresenceStateStore.writeHealth().writable`). */
  storeWritable(): boolean;
}

/**
 * PUBLISH (RFC 3903 §6), as the ESC processes it: target, event package, precondition, expiry, body, whether a new
 * publication can be stored, then the change. Each step either yields what the next needs or a rejection that ends
 * the request. Everything runs synchronously, so changes to one resource apply one at a time in arrival order. The
 * 200 goes out before the change is announced.
 */
export function handlePublish(incoming: IncomingRequest, deps: PublishHandlerDeps): void {
  const req = incoming.request;
  const fail = (r: PublishRejection): void => reject(incoming, r, deps.logger);

  const target = readTarget(req, deps.accounts);
  if (target instanceof PublishRejection) return fail(target);
  const pkg = readPackage(req, deps.registry);
  if (pkg instanceof PublishRejection) return fail(pkg);
  const precondition = readPrecondition(req, target.resource, pkg.name, (r, e, t) => deps.ledger.find(r, e, t));
  if (precondition instanceof PublishRejection) return fail(precondition);
  const bounds = deps.minExpires === undefined ? pkg.expires : { ...pkg.expires, min: Math.min(deps.minExpires, pkg.expires.default) };
  const expires = grantExpires(req, bounds);
  if (expires instanceof PublishRejection) return fail(expires);
  const action = chooseAction(req, target.resource, pkg, precondition, expires);
  if (action instanceof PublishRejection) return fail(action);
  // Only a new publication waits for the store (store-refusal.ts): one already held is modified, refreshed or
  // removed in memory as before, and reaches the store once a flush succeeds again.
  if (action.kind === 'create' && !deps.storeWritable()) {
    return fail(new PublishRejection(503, STORE_REFUSAL_WHY, [['Retry-After', String(STORE_RETRY_AFTER_SECONDS)]]));
  }

  const outcome = perform(action, pkg, deps.ledger);
  // RFC 3903 §6: the 200 carries the entity-tag to use next and the granted lifetime.
  incoming.respond(200, { headers: [['SIP-ETag', outcome.etag], ['Expires', String(action.kind === 'remove' ? 0 : action.expires)]] });
  deps.logger.debug({ resource: target.resource, event: pkg.name, action: action.kind, etag: outcome.etag }, 'PUBLISH accepted');
  outcome.announce();
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
