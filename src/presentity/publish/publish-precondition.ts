import type { SipRequest } from '../../sip/message/message.js';
import { ParseError } from '../../sip/message/parse-error.js';
import type { LivePublication } from '../live-publication.js';
import type { ResourceKey } from '../resource-key.js';
import { PublishRejection } from './publish-rejection.js';

/** No SIP-If-Match: an initial publication. With one: the publication it names. */
export type Precondition = { kind: 'initial' } | { kind: 'existing'; publication: LivePublication };

export type PublicationLookup = (resource: ResourceKey, event: string, etag: string) => LivePublication | undefined;

/**
 * RFC 3903 §6 step 3: at most one entity-tag (else 400), and it must match a live publication of this resource and
 * event package (else 412 Conditional Request Failed).
 */
export function readPrecondition(req: SipRequest, resource: ResourceKey, event: string, lookup: PublicationLookup): Precondition | PublishRejection {
  if (req.headers.count('sip-if-match') > 1) {
    return new PublishRejection(400, 'more than one SIP-If-Match header (RFC 3903 §6 step 3)');
  }
  let etag: string | undefined;
  try {
    etag = req.sipIfMatch;
  } catch (err) {
    // A comma-separated list is not a single token either.
    if (err instanceof ParseError) return new PublishRejection(400, `SIP-If-Match must hold one entity-tag: ${err.message} (RFC 3903 §6 step 3)`);
    throw err;
  }
  if (etag === undefined) return { kind: 'initial' };
  const publication = lookup(resource, event, etag);
  if (!publication) return new PublishRejection(412, `entity-tag ${etag} matches no ${event} publication of ${resource} (RFC 3903 §6 step 3)`);
  return { kind: 'existing', publication };
}
