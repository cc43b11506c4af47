import { EventBodyError, type EventPackage } from '../../events/event-package.js';
import type { SipRequest } from '../../sip/message/message.js';
import { ParseError } from '../../sip/message/parse-error.js';
import type { AcceptedBody } from '../publication-ledger.js';
import { PublishRejection } from './publish-rejection.js';

/**
 * RFC 3903 §6 step 5: the body must be of a type the package takes (else 415 with Accept listing them) and must read
 * as a document of the package (else the package's verdict: 400, or 415 for a type it cannot read).
 */
export function readBody(req: SipRequest, pkg: EventPackage): AcceptedBody | PublishRejection {
  const accept: [string, string] = ['Accept', pkg.publishTypes.join(', ')];
  let contentType: string | undefined;
  try {
    contentType = req.contentType;
  } catch (err) {
    if (err instanceof ParseError) return new PublishRejection(400, `bad Content-Type header: ${err.message}`);
    throw err;
  }
  if (contentType === undefined || !pkg.publishTypes.includes(contentType)) {
    const what = contentType === undefined ? 'a body without Content-Type' : `Content-Type ${contentType}`;
    return new PublishRejection(415, `${what} is not accepted for ${pkg.name} (RFC 3903 §6 step 5)`, [accept]);
  }
  try {
    // A copy: the request body may be a view into the whole datagram, which should not stay in memory with it.
    return { doc: pkg.parsePublication(req.body, contentType), body: Buffer.from(req.body), contentType };
  } catch (err) {
    if (!(err instanceof EventBodyError)) throw err;
    return new PublishRejection(err.status, `unreadable ${pkg.name} body: ${err.message}`, err.status === 415 ? [accept] : []);
  }
}
