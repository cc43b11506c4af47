import type { SipRequest } from './message.js';
import { ParseError } from './parse-error.js';

/**
 * A ParseError that carries the partly parsed request, complete enough for a response to be built (RFC 3261 §8.2.6).
 * Kept apart from ParseError so that the message classes, which throw ParseError, and the error do not import each
 * other. Only the parser and the transport make one; catch ParseError and ask `requestOf` for the request.
 */
export class RequestParseError extends ParseError {
  readonly request: SipRequest;

  constructor(message: string, request: SipRequest, status = 400) {
    super(message, { status });
    this.request = request;
  }
}

/** The request a parse error carries for its 400 (or 505), or undefined when there is none to answer. */
export function requestOf(err: ParseError): SipRequest | undefined {
  return err instanceof RequestParseError ? err.request : undefined;
}
