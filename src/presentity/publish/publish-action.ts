import type { EventPackage } from '../../events/event-package.js';
import type { SipRequest } from '../../sip/message/message.js';
import type { LivePublication } from '../live-publication.js';
import type { AcceptedBody } from '../publication-ledger.js';
import type { ResourceKey } from '../resource-key.js';
import { readBody } from './publish-body.js';
import type { Precondition } from './publish-precondition.js';
import { PublishRejection } from './publish-rejection.js';

/** The four things a PUBLISH can do to event state (RFC 3903 §4.2-§4.5). */
export type PublishAction =
  | { kind: 'create'; resource: ResourceKey; body: AcceptedBody; expires: number }
  | { kind: 'modify'; existing: LivePublication; body: AcceptedBody; expires: number }
  | { kind: 'refresh'; existing: LivePublication; expires: number }
  | { kind: 'remove'; existing: LivePublication };

/**
 * Decides the action from the precondition, the granted expiry and the body (RFC 3903 §6 steps 4-5): Expires 0 removes
 * and needs an entity-tag; without an entity-tag a body is required; with one, a body modifies and no body refreshes.
 */
export function chooseAction(
  req: SipRequest,
  resource: ResourceKey,
  pkg: EventPackage,
  precondition: Precondition,
  expires: number,
): PublishAction | PublishRejection {
  const hasBody = req.body.length > 0;
  if (expires === 0) {
    if (precondition.kind === 'initial') {
      return new PublishRejection(400, 'Expires 0 removes a publication and needs a SIP-If-Match (RFC 3903 §4.5)');
    }
    return { kind: 'remove', existing: precondition.publication };
  }
  if (!hasBody) {
    if (precondition.kind === 'initial') return new PublishRejection(400, 'an initial PUBLISH needs a body (RFC 3903 §4.2)');
    return { kind: 'refresh', existing: precondition.publication, expires };
  }
  const body = readBody(req, pkg);
  if (body instanceof PublishRejection) return body;
  if (precondition.kind === 'initial') return { kind: 'create', resource, body, expires };
  return { kind: 'modify', existing: precondition.publication, body, expires };
}
