import type { Logger } from '../../lib/logger.js';
import { newTag } from '../../lib/ids.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { canRespond, createResponse, type CreateResponseOptions } from '../message/response-factory.js';
import { ParseError } from '../message/parse-error.js';
import { validateRequest } from '../parser/validate.js';
import type { Flow } from '../transport/flow.js';

/**
 * The user-agent core (RFC 3261 §8.2): every request that survives the transaction layer comes here, is checked in
 * the RFC's order, and is handed to the one handler registered for its method. Features never see transactions:
 * they answer through `IncomingRequest.respond`.
 */

/** Methods this stack knows by name (RFC 3261 §7.1, RFC 3262, 3265/6665, 3311, 3428, 3515, 3903, 2976). */
export const KNOWN_METHODS = [
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO',
  'REFER', 'MESSAGE', 'UPDATE',
] as const;

const KNOWN: ReadonlySet<string> = new Set(KNOWN_METHODS);

/** URI schemes we serve (RFC 3261 §8.2.2.1: anything else is 416). */
const SUPPORTED_SCHEMES = new Set(['sip', 'sips']);

/** What the transaction layer gives the core for each new request. */
export interface ResponseSink {
  respond(response: SipResponse): void;
}

export interface RespondOptions {
  reason?: string;
  headers?: [string, string][];
  body?: Buffer;
  contentType?: string;
  /** Our To-tag; a fresh one is added to final responses that need one when this is absent. */
  toTag?: string;
}

export interface IncomingRequest {
  readonly request: SipRequest;
  readonly flow: Flow;
  /** Builds the response (RFC 3261 §8.2.6), hands it to the server transaction and returns it. */
  respond(status: number, options?: RespondOptions): SipResponse;
}

export type MethodHandler = (incoming: IncomingRequest) => void | Promise<void>;

export interface UserAgentCoreOptions {
  logger: Logger;
  /** Event packages for Allow-Events, read at each use so the registry stays the one source. */
  allowEvents: () => readonly string[];
  /** Body types we accept, for OPTIONS' Accept. */
  accept: () => readonly string[];
  /** Option tags we support (RFC 3261 §8.2.2.3); anything else in Require gets 420. */
  supported?: readonly string[];
}

export class UserAgentCore {
  private readonly handlers = new Map<string, MethodHandler>();
  private readonly logger: Logger;
  private readonly supported: Set<string>;

  constructor(private readonly options: UserAgentCoreOptions) {
    this.logger = options.logger;
    this.supported = new Set((options.supported ?? []).map((s) => s.toLowerCase()));
    this.handlers.set('OPTIONS', (incoming) => this.answerOptions(incoming));
  }

  /** One handler per method; a later registration for the same method replaces the earlier one. */
  register(method: string, handler: MethodHandler): void {
    this.handlers.set(method.toUpperCase(), handler);
  }

  /** The methods we accept, for Allow (RFC 3261 §20.5). ACK is listed because in-dialog ACKs are legal to receive. */
  allow(): string[] {
    return [...this.handlers.keys()];
  }

  /** Entry point from the transaction layer. Never throws: a failing handler is answered 500 and logged. */
  receive(request: SipRequest, flow: Flow, sink: ResponseSink): void {
    // RFC 3261 §17: ACK for a non-2xx is absorbed by INVITE transactions, which we never create; nothing to answer.
    if (request.method === 'ACK') return;
    const incoming = this.incoming(request, flow, sink);
    const rejection = this.check(request);
    if (rejection) {
      this.logger.debug({ method: request.method, status: rejection.status, why: rejection.why, flow }, 'request rejected');
      incoming.respond(rejection.status, rejection.options);
      return;
    }
    const handler = this.handlers.get(request.method)!;
    try {
      const done = handler(incoming);
      if (done && typeof (done as Promise<void>).catch === 'function') {
        (done as Promise<void>).catch((err: unknown) => this.handlerFailed(incoming, err));
      }
    } catch (err) {
      this.handlerFailed(incoming, err);
    }
  }

  /**
   * The checks of RFC 3261 §8.2 in a deliberate order: an unknown method is 501 even when its CSeq disagrees
   * (RFC 4475 §3.1.2.18 prefers it); then malformed headers (400); then method inspection (405, §8.2.1);
   * Request-URI scheme (416, §8.2.2.1); Require (420, §8.2.2.3).
   */
  private check(request: SipRequest): { status: number; why: string; options?: RespondOptions } | undefined {
    if (!KNOWN.has(request.method)) {
      return { status: 501, why: `unknown method ${request.method}`, options: { headers: [['Allow', this.allow().join(', ')]] } };
    }
    try {
      validateRequest(request);
    } catch (err) {
      if (err instanceof ParseError) return { status: err.status, why: err.message };
      throw err;
    }
    if (!this.handlers.has(request.method)) {
      return { status: 405, why: `${request.method} not served here`, options: { headers: [['Allow', this.allow().join(', ')]] } };
    }
    let scheme: string;
    try {
      scheme = request.requestUri.scheme; // parseUri lower-cases it (RFC 3261 §19.1.4)
    } catch (err) {
      if (err instanceof ParseError) return { status: 400, why: `bad Request-URI: ${err.message}` };
      throw err;
    }
    if (!SUPPORTED_SCHEMES.has(scheme)) {
      return { status: 416, why: `unsupported URI scheme ${scheme}` };
    }
    const require = request.require;
    const unsupported = require.length === 0 ? require : require.filter((tag) => !this.supported.has(tag.toLowerCase()));
    if (unsupported.length > 0) {
      return { status: 420, why: `unsupported extensions ${unsupported.join(',')}`, options: { headers: [['Unsupported', unsupported.join(', ')]] } };
    }
    return undefined;
  }

  private answerOptions(incoming: IncomingRequest): void {
    incoming.respond(200, {
      headers: [
        ['Allow', this.allow().join(', ')],
        ['Accept', this.options.accept().join(', ')],
        ['Allow-Events', this.options.allowEvents().join(', ')],
      ],
    });
  }

  private incoming(request: SipRequest, flow: Flow, sink: ResponseSink): IncomingRequest {
    // An object literal, not a class: callers spread it (`{ ...incoming, respond }`), which would drop a prototype method.
    return {
      request,
      flow,
      respond(status, options) {
        // RFC 3261 §8.2.6.2: a UAS adds a To tag to responses that do not already have one (100 excepted).
        const toTag = options?.toTag ?? (status > 100 ? newTag() : undefined);
        const opts: CreateResponseOptions = {};
        if (toTag !== undefined) opts.toTag = toTag;
        if (options?.headers) opts.headers = options.headers;
        if (options?.body) opts.body = options.body;
        if (options?.contentType) opts.contentType = options.contentType;
        const response = createResponse(request, status, options?.reason, opts);
        sink.respond(response);
        return response;
      },
    };
  }

  private handlerFailed(incoming: IncomingRequest, err: unknown): void {
    this.logger.error({ err, method: incoming.request.method, callId: safeCallId(incoming.request) }, 'request handler failed');
    if (canRespond(incoming.request)) {
      try {
        incoming.respond(500, { reason: 'Server Internal Error' });
      } catch {
        // the transaction may already have answered; nothing more to do
      }
    }
  }
}

function safeCallId(request: SipRequest): string | undefined {
  try {
    return request.callId;
  } catch {
    return undefined;
  }
}
