import type { EventPackage, EventPackageRegistry } from '../../events/event-package.js';
import type { SipRequest } from '../../sip/message/message.js';
import { ParseError } from '../../sip/message/parse-error.js';
import { PublishRejection } from './publish-rejection.js';

/** RFC 3903 §6 step 2: a missing Event header or an unsupported package is 489 with Allow-Events (RFC 6665 §8.2.2). */
export function readPackage(req: SipRequest, registry: EventPackageRegistry): EventPackage | PublishRejection {
  let name: string | undefined;
  try {
    name = req.event?.package;
  } catch (err) {
    if (err instanceof ParseError) return new PublishRejection(400, `bad Event header: ${err.message}`);
    throw err;
  }
  const pkg = name === undefined ? undefined : registry.get(name);
  if (!pkg) {
    const why = name === undefined ? 'PUBLISH without an Event header' : `event package ${name} is not supported`;
    return new PublishRejection(489, `${why} (RFC 3903 §6 step 2)`, [['Allow-Events', registry.names().join(', ')]]);
  }
  return pkg;
}
