import type { ExpiryBounds } from '../../events/event-package.js';
import type { SipRequest } from '../../sip/message/message.js';
import { ParseError } from '../../sip/message/parse-error.js';
import { PublishRejection } from './publish-rejection.js';

/**
 * RFC 3903 §6 step 4: no Expires takes the package default; below the minimum (but not 0) is 423 with Min-Expires;
 * above the maximum is lowered. 0 asks for removal and is decided by the caller. Returns the granted seconds.
 */
export function grantExpires(req: SipRequest, bounds: Readonly<ExpiryBounds>): number | PublishRejection {
  let asked: number | undefined;
  try {
    asked = req.expires;
  } catch (err) {
    if (err instanceof ParseError) return new PublishRejection(400, `bad Expires header: ${err.message}`);
    throw err;
  }
  if (asked === undefined) return bounds.default;
  if (asked === 0) return 0;
  if (asked < bounds.min) {
    return new PublishRejection(423, `Expires ${asked} is below the minimum of ${bounds.min} (RFC 3903 §6 step 4)`, [['Min-Expires', String(bounds.min)]]);
  }
  return Math.min(asked, bounds.max);
}
