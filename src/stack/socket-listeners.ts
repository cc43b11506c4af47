import { SipTransport, type SipTransportOptions } from '../sip/transport/sip-transport.js';
import type { TransportListeners } from '../sip/transport/transport-set.js';

/**
 * The server's SIP sockets as the stack's `transports`: one SipTransport listening on every address, serving UDP and
 * TCP on one port (RFC 3261 §18), keyed under each transport it serves.
 */
export function socketListeners(options: SipTransportOptions): TransportListeners {
  const sockets = new SipTransport(options);
  return Object.fromEntries(sockets.transports.map((t) => [t.name, sockets]));
}
