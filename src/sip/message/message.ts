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
      this.cacheVals = [];
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
    this.headers.setFirstValue('via', formatVia(v));
  }

  get cseq(): CSeq {
    return this.memo(S_CSEQ, (m) => parseCSeq(required(m, 'CSeq')));
  }

  get from(): NameAddr {
    return this.memo(S_FROM, (m) => parseNameAddr(required(m, 'From')));
  }

  get to(): NameAddr {
    return this.memo(S_TO, (m) => parseNameAddr(required(m, 'To')));
  }

  get callId(): string {
    return this.memo(S_CALLID, (m) => parseCallId(required(m, 'Call-ID')));
  }

  /** Contact values; `*` gives an empty list and `contactStar` true. */
  get contact(): NameAddr[] {
    return this.memo(S_CONTACT, computeContact).list;
  }

  get contactStar(): boolean {
    return this.memo(S_CONTACT, computeContact).star;
  }

  get expires(): number | undefined {
    return this.memo(S_EXPIRES, (m) => optional(m, 'expires', (v) => parseDeltaSeconds(v, 'Expires')));
  }

  get minExpires(): number | undefined {
    return this.memo(S_MINEXP, (m) => optional(m, 'min-expires', (v) => parseDeltaSeconds(v, 'Min-Expires')));
  }

  get maxForwards(): number | undefined {
    return this.memo(S_MAXFWD, (m) => optional(m, 'max-forwards', parseMaxForwards));
  }

  get contentLength(): number | undefined {
    return this.memo(S_CLEN, (m) => optional(m, 'content-length', parseContentLength));
  }

  /** Lower-cased `type/subtype` without parameters. */
  get contentType(): string | undefined {
    return this.memo(S_CTYPE, (m) => optional(m, 'content-type', (v) => parseMediaType(v, 'Content-Type')));
  }

  get event(): EventHeader | undefined {
    return this.memo(S_EVENT, (m) => optional(m, 'event', parseEvent));
  }

  get subscriptionState(): SubscriptionState | undefined {
    return this.memo(S_SUBSTATE, (m) => optional(m, 'subscription-state', parseSubscriptionState));
  }

  /** Lower-cased media ranges of every Accept line; empty when there is no Accept header. */
  get accept(): string[] {
    return this.memo(S_ACCEPT, (m) => parseAccept(m.headers.lines('accept')));
  }

  get require(): string[] {
    return this.memo(S_REQUIRE, (m) => parseTokenList(m.headers.lines('require'), 'Require'));
  }

  get proxyRequire(): string[] {
    return this.memo(S_PREQUIRE, (m) => parseTokenList(m.headers.lines('proxy-require'), 'Proxy-Require'));
  }

  get supported(): string[] {
    return this.memo(S_SUPPORTED, (m) => parseTokenList(m.headers.lines('supported'), 'Supported'));
  }

  get allowEvents(): string[] {
    return this.memo(S_ALLOWEV, (m) => parseTokenList(m.headers.lines('allow-events'), 'Allow-Events'));
  }

  get sipIfMatch(): string | undefined {
    return this.memo(S_IFMATCH, (m) => optional(m, 'sip-if-match', (v) => parseEntityTag(v, 'SIP-If-Match')));
  }

  get sipETag(): string | undefined {
    return this.memo(S_ETAG, (m) => optional(m, 'sip-etag', (v) => parseEntityTag(v, 'SIP-ETag')));
  }

  get authorization(): Authorization | undefined {
    return this.memo(S_AUTH, (m) => optional(m, 'authorization', (v) => parseAuthorization(v)));
  }

  get route(): NameAddr[] {
    return this.memo(S_ROUTE, (m) => nameAddrList(m, 'route'));
  }

  get recordRoute(): NameAddr[] {
    return this.memo(S_RROUTE, (m) => nameAddrList(m, 'record-route'));
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
