import type { SipRequest } from '../message/message.js';
import { ParseError } from '../message/parse-error.js';
import { formatUri } from '../message/uri.js';
import type { DialogState } from './dialog-state.js';

/**
 * Dialog state at a UAS from the request that creates it (RFC 3261 §12.1.1): the route set is the Record-Route URIs
 * in the order they arrived, the remote target is the Contact URI, the remote CSeq is the request's, our CSeq starts
 * empty (0 here), local URI from To and remote URI from From. Throws ParseError (answer 400) when the request has no
 * usable Contact, which a dialog-creating request must carry (§8.1.1.8).
 */
export function createUasDialog(request: SipRequest, localTag: string): DialogState {
  return {
    callId: request.callId,
    localTag,
    remoteTag: request.from.params.get('tag') ?? '',
    localUri: formatUri(request.to.uri),
    remoteUri: formatUri(request.from.uri),
    remoteTarget: remoteTargetOf(request),
    routeSet: request.recordRoute.map((rr) => formatUri(rr.uri)),
    localCseq: 0,
    remoteCseq: request.cseq.seq,
  };
}

/** The Contact URI of a target refresh or dialog-creating request (RFC 3261 §12.1.1, §12.2.2). */
export function remoteTargetOf(request: SipRequest): string {
  if (request.contactStar) throw new ParseError("Contact '*' cannot be a dialog's remote target");
  const contact = request.contact[0];
  if (!contact) throw new ParseError('a request that creates or refreshes a dialog needs a Contact (RFC 3261 §8.1.1.8)');
  return formatUri(contact.uri);
}
