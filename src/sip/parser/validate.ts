import { headerName } from '../message/header-names.js';
import type { SipRequest } from '../message/message.js';
import { ParseError } from '../message/parse-error.js';
import { RequestParseError } from '../message/request-parse-error.js';

/** Headers that may appear once only (RFC 3261 §7.3.1, §20; RFC 4475 §3.3.8 multi01, §3.3.9 mcl01). */
const SINGLE = [
  'from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type', 'expires', 'min-expires',
  'event', 'subscription-state', 'sip-if-match', 'date',
];

/** The headers a response cannot be built without (RFC 3261 §8.1.1, §8.2.6). */
const MANDATORY = ['via', 'from', 'to', 'call-id', 'cseq'];

/** rfc1123-date with "GMT" (RFC 3261 §20.17, RFC 4475 §3.1.2.12). */
const DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

function fail(message: string): never {
  throw new ParseError(message);
}

/** A bit per header of SINGLE and MANDATORY, so one pass over the header lines answers both checks. */
const BIT = new Map<string, number>();
for (const name of [...SINGLE, ...MANDATORY]) if (!BIT.has(name)) BIT.set(name, 1 << BIT.size);

function check(req: SipRequest): void {
  const h = req.headers;
  let seen = 0;
  let repeated = 0;
  for (let i = 0; i < h.size; i++) {
    const bit = BIT.get(h.keyAt(i));
    if (bit === undefined) continue;
    if ((seen & bit) !== 0) repeated |= bit;
    seen |= bit;
  }
  // Reported in the order of the lists, as the first failing check would be.
  for (const name of MANDATORY) if ((seen & (BIT.get(name) as number)) === 0) fail(`missing ${headerName(name).wire} header`);
  if (repeated !== 0) {
    for (const name of SINGLE) if ((repeated & (BIT.get(name) as number)) !== 0) fail(`more than one ${headerName(name).wire} header`);
  }
  void req.via;
  void req.from;
  void req.to;
  void req.callId;
  const cseq = req.cseq;
  // RFC 3261 §8.1.1.5: the CSeq method MUST match the Request-Line (RFC 4475 §3.1.2.17).
  if (cseq.method !== req.method) fail(`CSeq method ${cseq.method} does not match the request method ${req.method}`);
  void req.maxForwards;
  const cl = req.contentLength;
  if (cl !== undefined && cl !== req.body.length) fail(`Content-Length ${cl} does not match the ${req.body.length} body bytes`);
  void req.expires;
  void req.minExpires;
  void req.contact;
  void req.contentType;
  void req.event;
  void req.subscriptionState;
  void req.accept;
  void req.require;
  void req.proxyRequire;
  void req.sipIfMatch;
  const date = h.get('date');
  if (date !== undefined && !DATE.test(date)) fail(`malformed Date '${date}'`);
  const ruri = req.requestUri;
  // Headers are not allowed in a Request-URI (RFC 3261 §19.1.1 table 1; RFC 4475 §3.1.2.11).
  if ((ruri.scheme === 'sip' || ruri.scheme === 'sips') && ruri.headers.size > 0) {
    fail('Request-URI must not contain headers');
  }
}

/**
 * Parses every header the user-agent core relies on and checks the request-level rules, so that lazy parsing
 * still gives the RFC 4475 verdicts at the UA's edge. Throws ParseError with status 400 and `request` set.
 * Version (505) and framing problems are reported by parseMessage already.
 */
export function validateRequest(req: SipRequest): void {
  try {
    check(req);
  } catch (err) {
    if (err instanceof ParseError) throw new RequestParseError(err.message, req, 400);
    throw err;
  }
}
