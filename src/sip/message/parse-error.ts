import { PistonError } from '../../lib/errors.js';

export interface ParseErrorOptions {
  /** Status to answer with: 400 by default, 505 for an unsupported SIP-Version (RFC 3261 §8.2.1 / §21.5.6). */
  status?: number;
}

/**
 * The only error the SIP message layer and parser ever throw: says what was wrong and how to answer it. It knows
 * nothing of messages, since every header getter of `message.ts` throws it; the partly parsed request that a 400 is
 * built from travels on the subclass `RequestParseError` (request-parse-error.ts).
 */
export class ParseError extends PistonError {
  status: number;

  constructor(message: string, opts?: ParseErrorOptions) {
    super('sip-parse', message);
    this.status = opts?.status ?? 400;
  }
}
