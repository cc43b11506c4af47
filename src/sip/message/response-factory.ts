import { Headers } from './headers.js';
import { SipResponse, type SipRequest } from './message.js';
import { ParseError } from './parse-error.js';

const EMPTY = Buffer.alloc(0);

/** Default reason phrases (RFC 3261 §21, RFC 3265/6665, RFC 3903, RFC 4028, RFC 6086...). */
export const REASON_PHRASES: ReadonlyMap<number, string> = new Map([
  [100, 'Trying'], [180, 'Ringing'], [181, 'Call Is Being Forwarded'], [182, 'Queued'],
  [183, 'Session Progress'], [199, 'Early Dialog Terminated'], [200, 'OK'], [202, 'Accepted'],
  [204, 'No Notification'], [300, 'Multiple Choices'], [301, 'Moved Permanently'], [302, 'Moved Temporarily'],
  [305, 'Use Proxy'], [380, 'Alternative Service'], [400, 'Bad Request'], [401, 'Unauthorized'],
  [402, 'Payment Required'], [403, 'Forbidden'], [404, 'Not Found'], [405, 'Method Not Allowed'],
  [406, 'Not Acceptable'], [407, 'Proxy Authentication Required'], [408, 'Request Timeout'], [410, 'Gone'],
  [412, 'Conditional Request Failed'], [413, 'Request Entity Too Large'], [414, 'Request-URI Too Long'],
  [415, 'Unsupported Media Type'], [416, 'Unsupported URI Scheme'], [417, 'Unknown Resource-Priority'],
  [420, 'Bad Extension'], [421, 'Extension Required'], [422, 'Session Interval Too Small'],
  [423, 'Interval Too Brief'], [428, 'Use Identity Header'], [429, 'Provide Referrer Identity'],
  [433, 'Anonymity Disallowed'], [436, 'Bad Identity-Info'], [437, 'Unsupported Certificate'],
  [438, 'Invalid Identity Header'], [439, 'First Hop Lacks Outbound Support'], [470, 'Consent Needed'],
  [480, 'Temporarily Unavailable'], [481, 'Call/Transaction Does Not Exist'], [482, 'Loop Detected'],
  [483, 'Too Many Hops'], [484, 'Address Incomplete'], [485, 'Ambiguous'], [486, 'Busy Here'],
  [487, 'Request Terminated'], [488, 'Not Acceptable Here'], [489, 'Bad Event'], [491, 'Request Pending'],
  [493, 'Undecipherable'], [494, 'Security Agreement Required'], [500, 'Server Internal Error'],
  [501, 'Not Implemented'], [502, 'Bad Gateway'], [503, 'Service Unavailable'], [504, 'Server Time-out'],
  [505, 'Version Not Supported'], [513, 'Message Too Large'], [580, 'Precondition Failure'],
  [600, 'Busy Everywhere'], [603, 'Decline'], [604, 'Does Not Exist Anywhere'], [606, 'Not Acceptable'],
  [607, 'Unwanted'],
]);

export interface CreateResponseOptions {
  /** Added to To when the request's To has no tag (RFC 3261 §8.2.6.2). */
  toTag?: string;
  /** Extra header lines, appended in order. */
  headers?: [string, string][];
  body?: Buffer;
  contentType?: string;
}

function defaultReason(status: number): string {
  return REASON_PHRASES.get(status) ?? ['', 'Provisional', 'Success', 'Redirection', 'Client Error', 'Server Error', 'Global Failure'][Math.floor(status / 100)] ?? '';
}

function hasTag(req: SipRequest, rawTo: string): boolean {
  try {
    return req.to.params.has('tag');
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    // To does not parse: look for a tag parameter after the URI by hand.
    const close = rawTo.lastIndexOf('>');
    return /;\s*tag\s*=/i.test(close === -1 ? rawTo : rawTo.slice(close));
  }
}

/**
 * True when a response can be built and delivered: the request has at least one Via line. We send every response back
 * on the flow the request came from (RFC 3261 §18.2.2 with RFC 3581 behaviour), so a malformed Via does not stop us,
 * and a response copies whatever of From, To, Call-ID and CSeq exists (RFC 4475 §3.1.2.1 and §3.3.1 expect a 400 for
 * requests with broken Via parameters or missing To/From/Call-ID).
 */
export function canRespond(req: SipRequest): boolean {
  return req.headers.has('via');
}

/**
 * Builds a response to `req` (RFC 3261 §8.2.6): copies every Via line, From, To (adding `toTag` if To has no
 * tag), Call-ID and CSeq as raw lines, so it works for requests whose other headers do not parse. 100 Trying
 * also copies Timestamp (§8.2.6.1).
 */
export function createResponse(
  req: SipRequest,
  status: number,
  reason?: string,
  opts?: CreateResponseOptions,
): SipResponse {
  const h = new Headers();
  const src = req.headers;
  // The copied lines come from a Headers, whose values are already trimmed and free of CR/LF (the parser and the
  // mutators guarantee it), so they go in as they are, with the canonical wire names, in one pass over the request.
  let from: string | undefined;
  let to: string | undefined;
  let callId: string | undefined;
  let cseq: string | undefined;
  let ts: string | undefined;
  for (let i = 0; i < src.size; i++) {
    const key = src.keyAt(i);
    if (key === 'via') h.pushParsed('via', 'Via', src.valueAt(i));
    else if (key === 'from') from ??= src.valueAt(i);
    else if (key === 'to') to ??= src.valueAt(i);
    else if (key === 'call-id') callId ??= src.valueAt(i);
    else if (key === 'cseq') cseq ??= src.valueAt(i);
    else if (key === 'timestamp') ts ??= src.valueAt(i);
  }
  if (from !== undefined) h.pushParsed('from', 'From', from);
  if (to !== undefined) {
    const toTag = opts?.toTag;
    if (toTag !== undefined && !hasTag(req, to)) {
      // The tag is ours (a token); checked anyway so a bad one cannot inject header lines.
      h.append('To', `${to};tag=${toTag}`);
    } else h.pushParsed('to', 'To', to);
  }
  if (callId !== undefined) h.pushParsed('call-id', 'Call-ID', callId);
  if (cseq !== undefined) h.pushParsed('cseq', 'CSeq', cseq);
  if (status === 100 && ts !== undefined) h.pushParsed('timestamp', 'Timestamp', ts);
  const extra = opts?.headers;
  if (extra !== undefined) for (let i = 0; i < extra.length; i++) h.append((extra[i] as [string, string])[0], (extra[i] as [string, string])[1]);
  if (opts?.contentType !== undefined) h.set('Content-Type', opts.contentType);
  return new SipResponse(status, reason ?? defaultReason(status), h, opts?.body ?? EMPTY);
}
