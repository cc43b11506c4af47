/**
 * Builders for SIP requests in unit tests: text with given headers and body, parsed by the real parser, and a fake
 * IncomingRequest that keeps the responses a handler gives. Generic on purpose: PUBLISH, SUBSCRIBE, NOTIFY or any
 * other method, with headers added, replaced or left out as a test needs.
 */
import { newBranch, newCallId, newTag } from '../../src/lib/ids.js';
import type { SipRequest, SipResponse } from '../../src/sip/message/message.js';
import { createResponse } from '../../src/sip/message/response-factory.js';
import { parseMessage } from '../../src/sip/parser/index.js';
import type { Flow } from '../../src/sip/transport/flow.js';
import type { IncomingRequest, RespondOptions } from '../../src/sip/ua/user-agent-core.js';

/** A header value, several values (one line each), or `null` to leave a default header out. */
export type HeaderValue = string | number | readonly (string | number)[] | null;

export interface RequestSpec {
  method: string;
  /** Request-URI, e.g. `sip:1001@example.com`. */
  uri: string;
  /** Extra or overriding headers, written in this order after the defaults they do not replace. Names are case-insensitive. */
  headers?: Readonly<Record<string, HeaderValue>>;
  body?: string | Buffer;
  /** Write Content-Length (default true; false imitates a UDP client that leaves it out). */
  contentLength?: boolean;
}

/**
 * Default headers for a request: Via, Max-Forwards, From (with tag), To (the Request-URI), Call-ID, CSeq. Any of them
 * can be replaced through `spec.headers` or removed with `null`.
 */
function defaultHeaders(method: string, uri: string): [string, string][] {
  return [
    ['Via', `SIP/2.0/UDP 192.0.2.10:5060;branch=${newBranch()}`],
    ['Max-Forwards', '70'],
    ['From', `<sip:watcher@example.com>;tag=${newTag()}`],
    ['To', `<${uri}>`],
    ['Call-ID', newCallId('192.0.2.10')],
    ['CSeq', `1 ${method}`],
  ];
}

/** The request as wire text with CRLF line ends. */
export function requestText(spec: RequestSpec): string {
  const overrides = new Map<string, [string, HeaderValue]>();
  for (const [name, value] of Object.entries(spec.headers ?? {})) overrides.set(name.toLowerCase(), [name, value]);
  const lines: string[] = [`${spec.method} ${spec.uri} SIP/2.0`];
  const write = (name: string, value: HeaderValue): void => {
    if (value === null) return;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) lines.push(`${name}: ${v}`);
  };
  for (const [name, value] of defaultHeaders(spec.method, spec.uri)) {
    const o = overrides.get(name.toLowerCase());
    if (o) {
      write(o[0], o[1]);
      overrides.delete(name.toLowerCase());
    } else write(name, value);
  }
  for (const [name, value] of overrides.values()) write(name, value);
  const body = spec.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body, 'utf8');
  if (spec.contentLength !== false && !overrides.has('content-length')) {
    lines.push(`Content-Length: ${body.length}`);
  }
  return lines.join('\r\n') + '\r\n\r\n' + body.toString('utf8');
}

/** The request parsed by the real parser (datagram rules), as the UA core would receive it. */
export function buildRequest(spec: RequestSpec): SipRequest {
  const msg = parseMessage(Buffer.from(requestText(spec), 'utf8'));
  if (!msg.isRequest()) throw new Error('built text is not a request');
  return msg;
}

export interface PublishSpec {
  /** `user@domain` of the presentity, or a full Request-URI when it contains a scheme. */
  target: string;
  /** Event header value; null leaves the header out. */
  event?: string | null;
  /** SIP-If-Match value(s). */
  ifMatch?: string | readonly string[];
  expires?: number | string;
  contentType?: string;
  body?: string | Buffer;
  headers?: Readonly<Record<string, HeaderValue>>;
}

function uriOf(target: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) ? target : `sip:${target}`;
}

/** A PUBLISH (RFC 3903 §11.1) as text. */
export function publishText(spec: PublishSpec): string {
  const uri = uriOf(spec.target);
  const headers: Record<string, HeaderValue> = {
    From: `<${uri}>;tag=${newTag()}`,
    CSeq: `1 PUBLISH`,
    Event: spec.event === undefined ? 'dialog' : spec.event,
  };
  if (spec.ifMatch !== undefined) headers['SIP-If-Match'] = spec.ifMatch;
  if (spec.expires !== undefined) headers['Expires'] = spec.expires;
  if (spec.contentType !== undefined) headers['Content-Type'] = spec.contentType;
  return requestText({ method: 'PUBLISH', uri, headers: { ...headers, ...spec.headers }, ...(spec.body !== undefined ? { body: spec.body } : {}) });
}

export function buildPublish(spec: PublishSpec): SipRequest {
  return parseRequest(publishText(spec));
}

export interface SubscribeSpec {
  /** `user@domain` of the watched resource, or a full Request-URI. */
  target: string;
  event?: string | null;
  /** Watcher address for From, e.g. `sip:1002@example.com`. */
  from?: string;
  fromTag?: string;
  /** To tag, for an in-dialog SUBSCRIBE. */
  toTag?: string;
  callId?: string;
  cseq?: number;
  expires?: number | string;
  accept?: string | readonly string[];
  contact?: string;
  headers?: Readonly<Record<string, HeaderValue>>;
}

/** A SUBSCRIBE (RFC 6665 §3.1) as text. */
export function subscribeText(spec: SubscribeSpec): string {
  const uri = uriOf(spec.target);
  const from = spec.from ?? 'sip:watcher@example.com';
  const headers: Record<string, HeaderValue> = {
    From: `<${from}>;tag=${spec.fromTag ?? newTag()}`,
    To: spec.toTag ? `<${uri}>;tag=${spec.toTag}` : `<${uri}>`,
    CSeq: `${spec.cseq ?? 1} SUBSCRIBE`,
    Event: spec.event === undefined ? 'dialog' : spec.event,
    Contact: spec.contact ?? `<${from.replace(/@.*$/, '')}@192.0.2.10:5060>`,
  };
  if (spec.callId !== undefined) headers['Call-ID'] = spec.callId;
  if (spec.expires !== undefined) headers['Expires'] = spec.expires;
  if (spec.accept !== undefined) headers['Accept'] = spec.accept;
  return requestText({ method: 'SUBSCRIBE', uri, headers: { ...headers, ...spec.headers } });
}

export function buildSubscribe(spec: SubscribeSpec): SipRequest {
  return parseRequest(subscribeText(spec));
}

/** Parses request text (LF line ends are turned into CRLF first, so fixtures written by hand work). */
export function parseRequest(text: string | Buffer): SipRequest {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text.includes('\r\n') ? text : text.replace(/\n/g, '\r\n'), 'utf8');
  const msg = parseMessage(buf);
  if (!msg.isRequest()) throw new Error('not a request');
  return msg;
}

export const TEST_FLOW: Flow = Object.freeze({
  protocol: 'udp',
  localAddress: '192.0.2.1',
  localPort: 5060,
  remoteAddress: '192.0.2.10',
  remotePort: 5060,
});

/** An IncomingRequest that builds real responses (RFC 3261 §8.2.6) and keeps them. */
export class FakeIncoming implements IncomingRequest {
  readonly responses: SipResponse[] = [];

  constructor(
    readonly request: SipRequest,
    readonly flow: Flow = TEST_FLOW,
  ) {}

  respond(status: number, options: RespondOptions = {}): SipResponse {
    const toTag = options.toTag ?? (status > 100 ? newTag() : undefined);
    const response = createResponse(this.request, status, options.reason, {
      ...(toTag !== undefined ? { toTag } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.body ? { body: options.body } : {}),
      ...(options.contentType ? { contentType: options.contentType } : {}),
    });
    this.responses.push(response);
    return response;
  }

  /** The last response; throws when the handler gave none, so a test fails clearly. */
  get last(): SipResponse {
    const r = this.responses[this.responses.length - 1];
    if (!r) throw new Error('no response was sent');
    return r;
  }
}

export function fakeIncoming(request: SipRequest | string, flow?: Flow): FakeIncoming {
  return new FakeIncoming(typeof request === 'string' ? parseRequest(request) : request, flow);
}
