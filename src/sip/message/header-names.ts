/**
 * Header field names: canonical keys (lower-case long form), compact forms and wire spellings.
 * RFC 3261 §7.3.1 (names are case-insensitive), §7.3.3 and §20 (compact forms), RFC 3265/6665 (o, u),
 * RFC 3515 (r), RFC 3892 (b), RFC 4028 (x), RFC 4474 (y, n), RFC 3841 (a, j, d).
 */

export interface HeaderName {
  /** Lower-case long name used for lookups. */
  key: string;
  /** How the name is written on the wire. */
  wire: string;
}

const CANONICAL = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
  'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition',
  'Content-Encoding', 'Content-ID', 'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date',
  'Error-Info', 'Event', 'Expires', 'From', 'History-Info', 'Identity', 'Identity-Info', 'In-Reply-To', 'Join',
  'Max-Forwards', 'MIME-Version', 'Min-Expires', 'Min-SE', 'Organization', 'P-Asserted-Identity',
  'P-Preferred-Identity', 'Path', 'Priority', 'Privacy', 'Proxy-Authenticate', 'Proxy-Authorization',
  'Proxy-Require', 'RAck', 'Reason', 'Record-Route', 'Refer-Sub', 'Refer-To', 'Referred-By', 'Reject-Contact',
  'Replaces', 'Reply-To', 'Request-Disposition', 'Require', 'Retry-After', 'Route', 'RSeq', 'Security-Client',
  'Security-Server', 'Security-Verify', 'Server', 'Service-Route', 'Session-Expires', 'SIP-ETag', 'SIP-If-Match',
  'Subject', 'Subscription-State', 'Supported', 'Timestamp', 'To', 'Unsupported', 'User-Agent', 'Via', 'Warning',
  'WWW-Authenticate',
];

/** Compact form → lower-case long name. */
export const COMPACT: ReadonlyMap<string, string> = new Map([
  ['a', 'accept-contact'],
  ['b', 'referred-by'],
  ['c', 'content-type'],
  ['d', 'request-disposition'],
  ['e', 'content-encoding'],
  ['f', 'from'],
  ['i', 'call-id'],
  ['j', 'reject-contact'],
  ['k', 'supported'],
  ['l', 'content-length'],
  ['m', 'contact'],
  ['n', 'identity-info'],
  ['o', 'event'],
  ['r', 'refer-to'],
  ['s', 'subject'],
  ['t', 'to'],
  ['u', 'allow-events'],
  ['v', 'via'],
  ['x', 'session-expires'],
  ['y', 'identity'],
]);

/**
 * Headers whose values are comma-separated lists (RFC 3261 §7.3.1: `field-name: value *(, value)`), so that
 * several values on one line are the same as several lines. Everything else is split only by line: the
 * authentication headers and Date contain commas inside one value, and unknown headers may too.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'accept', 'accept-contact', 'accept-encoding', 'accept-language', 'alert-info', 'allow', 'allow-events',
  'call-info', 'contact', 'content-encoding', 'content-language', 'error-info', 'history-info', 'in-reply-to',
  'p-asserted-identity', 'p-preferred-identity', 'path', 'proxy-require', 'reason', 'record-route',
  'reject-contact', 'request-disposition', 'require', 'route', 'security-client', 'security-server',
  'security-verify', 'service-route', 'supported', 'unsupported', 'via', 'warning',
]);

const byLower = new Map<string, HeaderName>();
/** Exact spellings seen on the wire (canonical, lower-case, compact in both cases) → name, to skip lower-casing. */
const byExact = new Map<string, HeaderName>();

for (const wire of CANONICAL) {
  const h: HeaderName = { key: wire.toLowerCase(), wire };
  byLower.set(h.key, h);
  byExact.set(wire, h);
  byExact.set(h.key, h);
  byExact.set(wire.toUpperCase(), h);
}
for (const [compact, long] of COMPACT) {
  const h = byLower.get(long) as HeaderName;
  byLower.set(compact, h);
  byExact.set(compact, h);
  byExact.set(compact.toUpperCase(), h);
}

/** Exact spellings grouped by length and first character, to resolve a name inside a larger string without slicing it. */
const byShape = new Map<number, [string, HeaderName][]>();
for (const [spelling, h] of byExact) {
  const shape = spelling.length * 128 + spelling.charCodeAt(0);
  let list = byShape.get(shape);
  if (!list) byShape.set(shape, (list = []));
  list.push([spelling, h]);
}

/**
 * Resolves the header name `text[start, end)` as headerName does, but without cutting a string for the names in
 * their usual spellings (the parser meets a dozen per message).
 */
export function headerNameAt(text: string, start: number, end: number): HeaderName {
  const c = text.charCodeAt(start);
  if (c < 128) {
    const list = byShape.get((end - start) * 128 + c);
    if (list !== undefined) {
      for (let k = 0; k < list.length; k++) {
        const entry = list[k] as [string, HeaderName];
        if (text.startsWith(entry[0], start)) return entry[1];
      }
    }
  }
  return headerName(text.slice(start, end));
}

/** Resolves a header name as written (any case, compact or long) to its key and wire spelling. */
export function headerName(name: string): HeaderName {
  const exact = byExact.get(name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  // Unknown names are not cached: a peer must not be able to grow this table.
  return byLower.get(lower) ?? { key: lower, wire: name };
}

/** Lower-case long key for a name in any spelling. */
export function headerKey(name: string): string {
  const exact = byExact.get(name);
  if (exact !== undefined) return exact.key;
  const lower = name.toLowerCase();
  return byLower.get(lower)?.key ?? lower;
}
