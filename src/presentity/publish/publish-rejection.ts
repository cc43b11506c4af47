import type { Logger } from '../../lib/logger.js';
import type { IncomingRequest } from '../../sip/ua/user-agent-core.js';

/**
 * A PUBLISH the ESC refuses (RFC 3903 §6): the status, the extra headers the RFC asks for (Allow-Events, Min-Expires,
 * Accept) and why, which goes to the log and, as a Warning (RFC 3261 §20.43, code 399), to the publisher.
 */
export class PublishRejection {
  constructor(
    readonly status: number,
    readonly why: string,
    readonly headers: readonly [string, string][] = [],
  ) {}
}

/** Sends the rejection. The Warning text is stripped of quotes and control characters so it stays a quoted-string. */
export function reject(incoming: IncomingRequest, rejection: PublishRejection, logger: Logger): void {
  logger.debug({ status: rejection.status, why: rejection.why }, 'PUBLISH rejected');
  const text = rejection.why.replace(/["\\\u0000-\u001f\u007f]/g, "'").slice(0, 200);
  incoming.respond(rejection.status, { headers: [...rejection.headers, ['Warning', `399 piston "${text}"`]] });
}
