import { HCHAR, OPAQUE, PARAMCHAR, PASSWORD, SCHEME, USER, allIn, escapesValid, scanHostName, scanPort } from './grammar.js';
import { ParseError } from './parse-error.js';

/**
 * A SIP or SIPS URI (RFC 3261 §19.1), or any other absolute URI kept opaque.
 * user, password and parameter values keep their %-escapes as sent (RFC 3261 §19.1.4 compares them unescaped;
 * forwarding them must not change them). Parameter names are lower-cased.
 */
export interface SipUri {
  /** Lower-cased: schemes are case-insensitive (RFC 3261 §19.1.4). */
  scheme: string;
  user?: string;
  password?: string;
  /** As sent; an IPv6 reference keeps its brackets. Empty for non-SIP schemes. */
  host: string;
  port?: number;
  params: Map<string, string | null>;
  headers: Map<string, string>;
  /** Everything after `scheme:` for a scheme other than sip/sips (tel:, http:, urn: ...). */
  opaque?: string;
}

function fail(text: string, why: string): never {
  throw new ParseError(`malformed URI '${text.length > 80 ? text.slice(0, 80) + '…' : text}': ${why}`);
}

export function parseUri(text: string): SipUri {
  const colon = text.indexOf(':');
  if (colon <= 0) fail(text, 'no scheme');
  const c0 = text.charCodeAt(0) | 0x20;
  if (c0 < 97 || c0 > 122 || !allIn(SCHEME, text, 0, colon)) fail(text, 'bad scheme');
  let scheme = text.slice(0, colon);
  if (scheme !== 'sip' && scheme !== 'sips') scheme = scheme.toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(text, colon + 1, scheme);
  const opaque = text.slice(colon + 1);
  if (!allIn(OPAQUE, opaque)) fail(text, 'bad characters');
  return { scheme, host: '', params: new Map(), headers: new Map(), opaque };
}

function parseSipUri(s: string, start: number, scheme: string): SipUri {
  const n = s.length;
  const uri: SipUri = { scheme, host: '', params: new Map(), headers: new Map() };
  let i = start;
  // userinfo ends at the first '@': '@' is not allowed unescaped anywhere else in a SIP URI (RFC 3261 §25.1).
  const at = s.indexOf('@', i);
  if (at !== -1) {
    let pc = s.indexOf(':', i);
    if (pc > at) pc = -1;
    const userEnd = pc === -1 ? at : pc;
    if (!allIn(USER, s, i, userEnd) || !escapesValid(s, i, userEnd)) fail(s, 'bad user part');
    uri.user = s.slice(i, userEnd);
    if (pc !== -1) {
      if (pc + 1 < at && (!allIn(PASSWORD, s, pc + 1, at) || !escapesValid(s, pc + 1, at))) fail(s, 'bad password');
      uri.password = s.slice(pc + 1, at);
    }
    i = at + 1;
  }
  // host
  const hostStart = i;
  if (s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i);
    if (close === -1) fail(s, 'unterminated IPv6 reference');
    for (let j = i + 1; j < close; j++) {
      const c = s.charCodeAt(j);
      const ok = (c >= 48 && c <= 58) || ((c | 0x20) >= 97 && (c | 0x20) <= 102) || c === 46;
      if (!ok) fail(s, 'bad IPv6 reference');
    }
    if (close === i + 1) fail(s, 'empty IPv6 reference');
    i = close + 1;
  } else {
    i = scanHostName(s, i);
    if (i === hostStart) fail(s, 'missing host');
  }
  uri.host = s.slice(hostStart, i);
  // port
  if (i < n && s.charCodeAt(i) === 58) {
    const scanned = scanPort(s, i + 1) ?? fail(s, 'bad port');
    uri.port = scanned.port;
    i = scanned.end;
  }
  // uri-parameters
  while (i < n && s.charCodeAt(i) === 59) {
    i++;
    const ns = i;
    while (i < n && s.charCodeAt(i) < 128 && PARAMCHAR[s.charCodeAt(i)] === 1) i++;
    if (i === ns) fail(s, 'empty parameter name');
    const name = s.slice(ns, i).toLowerCase();
    let value: string | null = null;
    if (i < n && s.charCodeAt(i) === 61) {
      i++;
      const vs = i;
      while (i < n && s.charCodeAt(i) < 128 && PARAMCHAR[s.charCodeAt(i)] === 1) i++;
      if (i === vs) fail(s, `empty value for parameter '${name}'`);
      value = s.slice(vs, i);
    }
    if (!escapesValid(s, ns, i)) fail(s, 'bad escape in parameter');
    if (!uri.params.has(name)) uri.params.set(name, value);
  }
  // headers
  if (i < n && s.charCodeAt(i) === 63) {
    i++;
    for (;;) {
      const ns = i;
      while (i < n && s.charCodeAt(i) < 128 && HCHAR[s.charCodeAt(i)] === 1) i++;
      if (i === ns || i >= n || s.charCodeAt(i) !== 61) fail(s, 'bad header');
      const name = s.slice(ns, i);
      i++;
      const vs = i;
      while (i < n && s.charCodeAt(i) < 128 && HCHAR[s.charCodeAt(i)] === 1) i++;
      if (!escapesValid(s, ns, i)) fail(s, 'bad escape in header');
      uri.headers.set(name, s.slice(vs, i));
      if (i < n && s.charCodeAt(i) === 38) {
        i++;
        continue;
      }
      break;
    }
  }
  if (i !== n) fail(s, `unexpected '${s[i]}'`);
  return uri;
}

export function formatUri(uri: SipUri): string {
  if (uri.opaque !== undefined) return `${uri.scheme}:${uri.opaque}`;
  let out = uri.scheme + ':';
  if (uri.user !== undefined) {
    out += uri.user;
    if (uri.password !== undefined) out += ':' + uri.password;
    out += '@';
  }
  out += uri.host;
  if (uri.port !== undefined) out += ':' + uri.port;
  for (const [k, v] of uri.params) out += v === null ? `;${k}` : `;${k}=${v}`;
  let sep = '?';
  for (const [k, v] of uri.headers) {
    out += `${sep}${k}=${v}`;
    sep = '&';
  }
  return out;
}
