import { TOKEN, WORD, allIn, isDigits, isToken, isWs, skipQuoted, trimLws, unquote } from './grammar.js';
import { parseParams } from './header-params.js';
import { ParseError } from './parse-error.js';
import { splitList } from './split-list.js';

/**
 * Parsers for the single-purpose header values the presence server reads. Each throws ParseError with the
 * header name and the reason when the value does not follow its grammar.
 */

/** CSeq (RFC 3261 §20.16). */
export interface CSeq {
  seq: number;
  method: string;
}

/** Event (RFC 6665 §8.2.1): the package (with templates), the `id` parameter and all parameters. */
export interface EventHeader {
  package: string;
  id?: string;
  params: Map<string, string | null>;
}

/** Subscription-State (RFC 6665 §8.2.3). */
export interface SubscriptionState {
  /** Lower-cased: active, pending, terminated, or an extension. */
  state: string;
  expires?: number;
  reason?: string;
  params: Map<string, string | null>;
}

/** Authorization / Proxy-Authorization credentials (RFC 3261 §20.7, §25.1). */
export interface Authorization {
  /** As sent, e.g. 'Digest'. */
  scheme: string;
  /** Parameter names lower-cased; quoted values unquoted. */
  params: Map<string, string>;
}

/** 2^32 - 1: the largest delta-seconds RFC 3261 §20.19 asks implementations to handle. */
export const MAX_DELTA_SECONDS = 4294967295;

/** CSeq sequence numbers MUST be below 2^31 (RFC 3261 §8.1.1.5). */
const MAX_CSEQ = 2147483647;

function digitsValue(text: string, header: string, max: number): number {
  if (!isDigits(text)) throw new ParseError(`${header}: '${clip(text)}' is not a number`);
  // Leading zeros are allowed (RFC 4475 wsinv: Max-Forwards 0068); more than 10 significant digits never fit.
  let i = 0;
  while (i < text.length - 1 && text.charCodeAt(i) === 48) i++;
  if (text.length - i > 10) throw new ParseError(`${header}: ${clip(text)} is too large`);
  const n = Number(text.slice(i));
  if (n > max) throw new ParseError(`${header}: ${clip(text)} is too large (max ${max})`);
  return n;
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}

export function parseCSeq(text: string): CSeq {
  const s = trimLws(text);
  let i = 0;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  const num = s.slice(0, i);
  let j = i;
  while (j < s.length && isWs(s.charCodeAt(j))) j++;
  const method = s.slice(j);
  if (num.length === 0 || j === i || !isToken(method)) throw new ParseError(`CSeq: malformed '${clip(s)}'`);
  return { seq: digitsValue(num, 'CSeq', MAX_CSEQ), method };
}

/** delta-seconds headers: Expires, Min-Expires (RFC 3261 §20.19, §20.23). */
export function parseDeltaSeconds(text: string, header: string): number {
  return digitsValue(trimLws(text), header, MAX_DELTA_SECONDS);
}

/** Max-Forwards is 0-255 (RFC 3261 §20.22, RFC 4475 §3.1.2.4). */
export function parseMaxForwards(text: string): number {
  return digitsValue(trimLws(text), 'Max-Forwards', 255);
}

export function parseContentLength(text: string): number {
  return digitsValue(trimLws(text), 'Content-Length', MAX_DELTA_SECONDS);
}

/** media-type / media-range (RFC 3261 §20.1, §20.15) to lower-case `type/subtype`, parameters dropped. */
export function parseMediaType(text: string, header: string, range = false): string {
  const s = trimLws(text);
  const semi = s.indexOf(';');
  const head = semi === -1 ? s : s.slice(0, semi);
  const slash = head.indexOf('/');
  if (slash === -1) throw new ParseError(`${header}: '${clip(s)}' is not a media type`);
  const type = trimLws(head.slice(0, slash));
  const sub = trimLws(head.slice(slash + 1));
  // media-range allows "*/*" and "type/*"; TOKEN already contains '*'.
  if (!isToken(type) || !isToken(sub) || (!range && (type === '*' || sub === '*'))) {
    throw new ParseError(`${header}: '${clip(s)}' is not a media type`);
  }
  if (semi !== -1) parseParams(s, semi, header);
  return `${type}/${sub}`.toLowerCase();
}

/** Accept: list of media ranges; an empty Accept means nothing is acceptable (RFC 3261 §20.1). */
export function parseAccept(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) for (const part of splitList(line, false)) out.push(parseMediaType(part, 'Accept', true));
  return out;
}

/** Comma-separated token lists: Require, Proxy-Require, Supported, Allow-Events, Allow. */
export function parseTokenList(lines: string[], header: string): string[] {
  const out: string[] = [];
  for (const line of lines) {
    for (const part of splitList(line, false)) {
      if (!isToken(part)) throw new ParseError(`${header}: '${clip(part)}' is not a token`);
      out.push(part);
    }
  }
  return out;
}

export function parseEvent(text: string): EventHeader {
  const s = trimLws(text);
  let i = 0;
  while (i < s.length && s.charCodeAt(i) < 128 && TOKEN[s.charCodeAt(i)] === 1) i++;
  if (i === 0) throw new ParseError(`Event: malformed '${clip(s)}'`);
  const params = parseParams(s, i, 'Event');
  const ev: EventHeader = { package: s.slice(0, i), params };
  const id = params.get('id');
  if (id === null) throw new ParseError('Event: id parameter needs a value');
  if (id !== undefined) ev.id = id;
  return ev;
}

export function parseSubscriptionState(text: string): SubscriptionState {
  const s = trimLws(text);
  let i = 0;
  while (i < s.length && s.charCodeAt(i) < 128 && TOKEN[s.charCodeAt(i)] === 1) i++;
  if (i === 0) throw new ParseError(`Subscription-State: malformed '${clip(s)}'`);
  const params = parseParams(s, i, 'Subscription-State');
  const st: SubscriptionState = { state: s.slice(0, i).toLowerCase(), params };
  const expires = params.get('expires');
  if (expires !== undefined) {
    if (expires === null) throw new ParseError('Subscription-State: expires needs a value');
    st.expires = parseDeltaSeconds(expires, 'Subscription-State expires');
  }
  const reason = params.get('reason');
  if (reason !== undefined) {
    if (reason === null) throw new ParseError('Subscription-State: reason needs a value');
    st.reason = reason.toLowerCase();
  }
  return st;
}

/** entity-tag = token (RFC 3903 §11.3.1, §11.3.2): SIP-ETag, SIP-If-Match. */
export function parseEntityTag(text: string, header: string): string {
  const s = trimLws(text);
  if (!isToken(s)) throw new ParseError(`${header}: '${clip(s)}' is not a token`);
  return s;
}

/** Call-ID = word [ "@" word ] (RFC 3261 §20.8). */
export function parseCallId(text: string): string {
  const s = trimLws(text);
  const at = s.indexOf('@');
  const ok =
    at === -1
      ? allIn(WORD, s)
      : allIn(WORD, s, 0, at) && allIn(WORD, s, at + 1) && s.indexOf('@', at + 1) === -1;
  if (!ok) throw new ParseError(`Call-ID: malformed '${clip(s)}'`);
  return s;
}

/**
 * credentials = auth-scheme LWS auth-param *(COMMA auth-param) (RFC 3261 §25.1); commas inside quoted values
 * (Digest uri=, qop=) are not separators.
 */
export function parseAuthorization(text: string, header = 'Authorization'): Authorization {
  const s = trimLws(text);
  let i = 0;
  while (i < s.length && s.charCodeAt(i) < 128 && TOKEN[s.charCodeAt(i)] === 1) i++;
  if (i === 0) throw new ParseError(`${header}: missing auth-scheme`);
  const scheme = s.slice(0, i);
  const params = new Map<string, string>();
  if (i < s.length && !isWs(s.charCodeAt(i))) throw new ParseError(`${header}: malformed auth-scheme`);
  const rest = s.slice(i);
  for (const part of splitList(rest, false)) {
    const eq = part.indexOf('=');
    if (eq === -1) {
      // token68-style credentials of unknown schemes: keep them, the UA only needs to see the scheme.
      params.set(part.toLowerCase(), '');
      continue;
    }
    const name = trimLws(part.slice(0, eq));
    if (!isToken(name)) throw new ParseError(`${header}: bad parameter name '${clip(name)}'`);
    let value = trimLws(part.slice(eq + 1));
    if (value.charCodeAt(0) === 34) {
      const end = skipQuoted(value, 0);
      if (end !== value.length) throw new ParseError(`${header}: bad quoted value for '${name}'`);
      value = unquote(value);
    } else if (!isToken(value) && value.length > 0 && !/^[!-~]+$/.test(value)) {
      throw new ParseError(`${header}: bad value for '${name}'`);
    }
    params.set(name.toLowerCase(), value);
  }
  return { scheme, params };
}
