import { PistonError } from '../../lib/errors.js';
import type { SipRequest } from './message.js';

export interface ParseErrorOptions {
  /** Status to answer with: 400 by default, 505 for an unsupported SIP-Version (RFC 3261 §8.2.1 / §21.5.6). */
  status?: number;
  /** The partly parsed request, when it is complete enough for a response to be built (RFC 3261 §8.2.6). */
  request?: SipRequest;
}

/** The only error the SIP message layer and parser ever throw: says what was wrong and how to answer it. */
export class ParseError extends PistonError {
  status: number;
  request?: SipRequest;

  constructor(message: string, opts?: ParseErrorOptions) {
    super('sip-parse', message);
    this.status = opts?.status ?? 400;
    if (opts?.request !== undefined) this.request = opts.request;
  }
}
