import { Headers } from './headers.js';
import {
  parseAccept,
  parseAuthorization,
  parseCSeq,
  parseCallId,
  parseContentLength,
  parseDeltaSeconds,
  parseEntityTag,
  parseEvent,
  parseMaxForwards,
  parseMediaType,
  parseSubscriptionState,
  parseTokenList,
  type Authorization,
  type CSeq,
  type EventHeader,
  type SubscriptionState,
} from './header-values.js';
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { ParseError } from './parse-error.js';
import { splitList } from './split-list.js';
import { parseUri, type SipUri } from './uri.js';
import { formatVia, parseVia, type Via } from './via.js';

export type { Authorization, CSeq, EventHeader, SubscriptionState } from './header-values.js';

const EMPTY = Buffer.alloc(0);

// Cache slots of the typed getters (bit positions in `cacheHas`).
const S_VIA = 0;
const S_CSEQ = 1;
const S_FROM = 2;
const S_TO = 3;
const S_CALLID = 4;
const S_CONTACT = 5;
const S_EXPIRES = 6;
const S_MAXFWD = 7;
const S_CLEN = 8;
const S_CTYPE = 9;
const S_EVENT = 10;
const S_SUBSTATE = 11;
const S_ACCEPT = 12;
const S_REQUIRE = 13;
const S_PREQUIRE = 14;
const S_IFMATCH = 15;
const S_ETAG = 16;
const S_AUTH = 17;
const S_MINEXP = 18;
const S_ALLOWEV = 19;
const S_ROUTE = 20;
const S_RROUTE = 21;
const S_SUPPORTED = 22;
const S_AUTHS = 23;
const SLOTS = 24;

interface ContactList {
  star: boolean;
  list: NameAddr[];
}

function required(m: SipMessage, name: string): string {
  const v = m.headers.get(name);
  if (v === undefined) throw new ParseError(`missing ${name} header`);
  return v;
}

function optional<T>(m: SipMessage, name: string, parse: (v: string) => T): T | undefined {
  const v = m.headers.get(name);
  return v === undefined ? undefined : parse(v);
}

function nameAddrList(m: SipMessage, name: string): NameAddr[] {
  const out: NameAddr[] = [];
  for (const line of m.headers.lines(name)) for (const part of splitList(line, true, name)) out.push(parseNameAddr(part));
  return out;
}

const computeVia = (m: SipMessage): Via[] => {
  const lines = m.headers.lines('via');
  if (lines.length === 1) return parseVia(lines[0] as string);
  const out: Via[] = [];
  for (const line of lines) for (const v of parseVia(line)) out.push(v);
  return out;
};

const computeContact = (m: SipMessage): ContactList => {
  const lines = m.headers.lines('contact');
  let star = false;
  const list: NameAddr[] = [];
  for (const line of lines) {
    for (const part of splitList(line, true, 'Contact')) {
      if (part === '*') star = true;
      else list.push(parseNameAddr(part));
    }
  }
  // RFC 3261 §10.2.2 / §20.10: '*' stands alone.
  if (star && (list.length > 0 || lines.length > 1)) throw new ParseError("Contact '*' must be the only value");
  return { star, list };
};

// The getters' parsers as module-level functions: an arrow written inside a getter would be a new closure per call.
const computeCSeq = (m: SipMessage): CSeq => parseCSeq(required(m, 'CSeq'));
const computeFrom = (m: SipMessage): NameAddr => parseNameAddr(required(m, 'From'));
const computeTo = (m: SipMessage): NameAddr => parseNameAddr(required(m, 'To'));
const computeCallId = (m: SipMessage): string => parseCallId(required(m, 'Call-ID'));
const parseExpiresValue = (v: string): number => parseDeltaSeconds(v, 'Expires');
const computeExpires = (m: SipMessage): number | undefined => optional(m, 'expires', parseExpiresValue);
const parseMinExpiresValue = (v: string): number => parseDeltaSeconds(v, 'Min-Expires');
const computeMinExpires = (m: SipMessage): number | undefined => optional(m, 'min-expires', parseMinExpiresValue);
const computeMaxForwards = (m: SipMessage): number | undefined => optional(m, 'max-forwards', parseMaxForwards);
const computeContentLength = (m: SipMessage): number | undefined => optional(m, 'content-length', parseContentLength);
const parseContentTypeValue = (v: string): string => parseMediaType(v, 'Content-Type');
const computeContentType = (m: SipMessage): string | undefined => optional(m, 'content-type', parseContentTypeValue);
const computeEvent = (m: SipMessage): EventHeader | undefined => optional(m, 'event', parseEvent);
const computeSubscriptionState = (m: SipMessage): SubscriptionState | undefined =>
  optional(m, 'subscription-state', parseSubscriptionState);
const computeAccept = (m: SipMessage): string[] => parseAccept(m.headers.lines('accept'));
const computeRequire = (m: SipMessage): string[] => parseTokenList(m.headers.lines('require'), 'Require');
const computeProxyRequire = (m: SipMessage): string[] => parseTokenList(m.headers.lines('proxy-require'), 'Proxy-Require');
const computeSupported = (m: SipMessage): string[] => parseTokenList(m.headers.lines('supported'), 'Supported');
const computeAllowEvents = (m: SipMessage): string[] => parseTokenList(m.headers.lines('allow-events'), 'Allow-Events');
const parseIfMatchValue = (v: string): string => parseEntityTag(v, 'SIP-If-Match');
const computeSipIfMatch = (m: SipMessage): string | undefined => optional(m, 'sip-if-match', parseIfMatchValue);
const parseETagValue = (v: string): string => parseEntityTag(v, 'SIP-ETag');
const computeSipETag = (m: SipMessage): string | undefined => optional(m, 'sip-etag', parseETagValue);
const computeAuthorization = (m: SipMessage): Authorization | undefined => optional(m, 'authorization', parseAuthorization);
// One credentials value per line: a comma inside one separates its auth-params, so lines are never split further.
const computeAuthorizations = (m: SipMessage): Authorization[] => m.headers.lines('authorization').map((v) => parseAuthorization(v));
const computeRoute = (m: SipMessage): NameAddr[] => nameAddrList(m, 'route');
const computeRecordRoute = (m: SipMessage): NameAddr[] => nameAddrList(m, 'record-route');

/**
 * A SIP message (RFC 3261 §7): start line, headers, body bytes. Typed getters parse their header on first use
 * and cache the result until `headers` changes; each throws ParseError when its header is malformed (or, for
 * the mandatory ones, missing).
 */
export abstract class SipMessage {
  headers: Headers;
  /** Body exactly as received or to be sent. */
  body: Buffer;
  /** SIP-Version as sent, normally 'SIP/2.0'. */
  version: string;

  private cacheVals: unknown[] | undefined;
  private cacheHas = 0;
  private cacheRev = -1;
  private cacheHeaders: Headers | undefined;

  protected constructor(headers: Headers, body: Buffer, version: string) {
    this.headers = headers;
    this.body = body;
    this.version = version;
  }

  abstract isRequest(): this is SipRequest;

  isResponse(): this is SipResponse {
    return !this.isRequest();
  }

  private memo<T>(slot: number, compute: (m: SipMessage) => T): T {
    const h = this.headers;
    if (this.cacheHeaders !== h || this.cacheRev !== h.rev || this.cacheVals === undefined) {
      // Sized once: growing an empty array to the slot index reallocates its backing store on each message.
      this.cacheVals = new Array(SLOTS);
      this.cacheHas = 0;
      this.cacheHeaders = h;
      this.cacheRev = h.rev;
    }
    const bit = 1 << slot;
    if ((this.cacheHas & bit) !== 0) return this.cacheVals[slot] as T;
    const v = compute(this);
    this.cacheVals[slot] = v;
    this.cacheHas |= bit;
    return v;
  }

  /** Every Via value, top first. */
  get via(): Via[] {
    return this.memo(S_VIA, computeVia);
  }

  get topVia(): Via {
    const v = this.via[0];
    if (v === undefined) throw new ParseError('missing Via header');
    return v;
  }

  /** Rewrites the first Via value, e.g. with received/rport (RFC 3581 §4). */
  setTopVia(v: Via): void {
    const h = this.headers;
    const current = this.cacheVals !== undefined && this.cacheHeaders === h && this.cacheRev === h.rev;
    h.setFirstValue('via', formatVia(v));
    if (!current) return;
    // Only Via changed, so the other cached values stay valid; the Via list is the old one with `v` on top, which
    // spares the transaction layer a second parse of every incoming request's Via (RFC 3581 §4 stamping).
    this.cacheRev = h.rev;
    if ((this.cacheHas & (1 << S_VIA)) !== 0) {
      const old = (this.cacheVals as unknown[])[S_VIA] as Via[];
      const list = old.slice();
      list[0] = v;
      (this.cacheVals as unknown[])[S_VIA] = list;
    }
  }

  get cseq(): CSeq {
    return this.memo(S_CSEQ, computeCSeq);
  }

  get from(): NameAddr {
    return this.memo(S_FROM, computeFrom);
  }

  get to(): NameAddr {
    return this.memo(S_TO, computeTo);
  }

  get callId(): string {
    return this.memo(S_CALLID, computeCallId);
  }

  /** Contact values; `*` gives an empty list and `contactStar` true. */
  get contact(): NameAddr[] {
    return this.memo(S_CONTACT, computeContact).list;
  }

  get contactStar(): boolean {
    return this.memo(S_CONTACT, computeContact).star;
  }

  get expires(): number | undefined {
    return this.memo(S_EXPIRES, computeExpires);
  }

  get minExpires(): number | undefined {
    return this.memo(S_MINEXP, computeMinExpires);
  }

  get maxForwards(): number | undefined {
    return this.memo(S_MAXFWD, computeMaxForwards);
  }

  get contentLength(): number | undefined {
    return this.memo(S_CLEN, computeContentLength);
  }

  /** Lower-cased `type/subtype` without parameters. */
  get contentType(): string | undefined {
    return this.memo(S_CTYPE, computeContentType);
  }

  get event(): EventHeader | undefined {
    return this.memo(S_EVENT, computeEvent);
  }

  get subscriptionState(): SubscriptionState | undefined {
    return this.memo(S_SUBSTATE, computeSubscriptionState);
  }

  /** Lower-cased media ranges of every Accept line; empty when there is no Accept header. */
  get accept(): string[] {
    return this.memo(S_ACCEPT, computeAccept);
  }

  get require(): string[] {
    return this.memo(S_REQUIRE, computeRequire);
  }

  get proxyRequire(): string[] {
    return this.memo(S_PREQUIRE, computeProxyRequire);
  }

  get supported(): string[] {
    return this.memo(S_SUPPORTED, computeSupported);
  }

  get allowEvents(): string[] {
    return this.memo(S_ALLOWEV, computeAllowEvents);
  }

  get sipIfMatch(): string | undefined {
    return this.memo(S_IFMATCH, computeSipIfMatch);
  }

  get sipETag(): string | undefined {
    return this.memo(S_ETAG, computeSipETag);
  }

  get authorization(): Authorization | undefined {
    return this.memo(S_AUTH, computeAuthorization);
  }

  /** Every Authorization header, in order (pjsip sends one per challenge it answers; security.md §2.2). */
  get authorizations(): Authorization[] {
    return this.memo(S_AUTHS, computeAuthorizations);
  }

  get route(): NameAddr[] {
    return this.memo(S_ROUTE, computeRoute);
  }

  get recordRoute(): NameAddr[] {
    return this.memo(S_RROUTE, computeRecordRoute);
  }
}

export class SipRequest extends SipMessage {
  method: string;
  /** Request-URI exactly as sent. */
  uri: string;
  private parsedUriText: string | undefined;
  private parsedUri: SipUri | undefined;

  constructor(method: string, uri: string, headers: Headers = new Headers(), body: Buffer = EMPTY, version = 'SIP/2.0') {
    super(headers, body, version);
    this.method = method;
    this.uri = uri;
  }

  isRequest(): this is SipRequest {
    return true;
  }

  /** The parsed Request-URI (cached while `uri` is unchanged); throws ParseError when malformed. */
  get requestUri(): SipUri {
    if (this.parsedUri === undefined || this.parsedUriText !== this.uri) {
      this.parsedUri = parseUri(this.uri);
      this.parsedUriText = this.uri;
    }
    return this.parsedUri;
  }
}

export class SipResponse extends SipMessage {
  status: number;
  reason: string;

  constructor(status: number, reason: string, headers: Headers = new Headers(), body: Buffer = EMPTY, version = 'SIP/2.0') {
    super(headers, body, version);
    this.status = status;
    this.reason = reason;
  }

  isRequest(): this is SipRequest {
    return false;
  }
}
