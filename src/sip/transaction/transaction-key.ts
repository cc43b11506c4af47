import { BRANCH_COOKIE } from '../../lib/ids.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { viaBranch, viaSentBy } from '../message/via.js';

/**
 * Transaction keys (RFC 3261 §17.1.3, §17.2.3). Each getter used here throws ParseError on a malformed header;
 * callers treat that as "cannot match".
 */

/** Key of a client transaction: branch + sent-by + CSeq method (RFC 3261 §17.1.3). */
export function clientTransactionKey(branch: string, sentBy: string, method: string): string {
  // join builds one flat string; a template literal would make a rope holding substrings of the whole message
  // text, which a transaction waiting in Timer J or K would then keep alive through its key.
  return [branch, sentBy.toLowerCase(), method].join('|');
}

/** The client transaction a response belongs to, from its top Via and CSeq (RFC 3261 §17.1.3). */
export function responseTransactionKey(res: SipResponse): string | undefined {
  const via = res.topVia;
  const branch = viaBranch(via);
  if (!branch) return undefined;
  return clientTransactionKey(branch, viaSentBy(via), res.cseq.method);
}

/**
 * Key of a server transaction (RFC 3261 §17.2.3). With the magic cookie: branch + sent-by + method (ACK would match
 * its INVITE, but ACK gets no transaction here). Without it (RFC 2543 clients, or a `badbranch` such as RFC 4475
 * §3.3.7's): Request-URI, To tag, From tag, Call-ID, CSeq and top Via together.
 */
export function serverTransactionKey(req: SipRequest): string {
  const via = req.topVia;
  const branch = viaBranch(via) ?? '';
  const method = req.method === 'ACK' ? 'INVITE' : req.method;
  if (branch.startsWith(BRANCH_COOKIE) && branch.length > BRANCH_COOKIE.length) {
    return ['3261', branch, viaSentBy(via).toLowerCase(), method].join('|');
  }
  const cseq = req.cseq;
  return [
    '2543',
    req.uri,
    tagOf(req.to.params),
    tagOf(req.from.params),
    req.callId,
    String(cseq.seq),
    cseq.method,
    method,
    via.transport,
    viaSentBy(via).toLowerCase(),
    branch,
  ].join('|');
}

function tagOf(params: Map<string, string | null>): string {
  return params.get('tag') ?? '';
}
