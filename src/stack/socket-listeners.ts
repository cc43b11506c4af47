import { SipTransport, type SipTransportOptions } from '../sip/transport/sip-transport.js';
import type { TransportListeners } from '../sip/transport/transport-set.js';
import { WsTransport, type WsTransportOptions } from '../sip/transport/ws-transport.js';

/** The WebSocket side, when wanted: WS and/or WSS ports and their settings (the hosts, clock and logger are shared). */
export type WebSocketListenerOptions = Omit<WsTransportOptions, 'hosts' | 'clock' | 'logger'>;

export interface SocketListenerOptions extends SipTransportOptions {
  /** SIP over WebSocket (RFC 7118); absent, or neither `ws` nor `wss` in it: none. */
  websocket?: WebSocketListenerOptions | undefined;
}

/**
 * The server's SIP sockets as the stack's `transports`: one SipTransport listening on every address, serving UDP and
 * TCP on one port (RFC 3261 §18) and TLS on its own when given a certificate, plus a WsTransport for WS and WSS;
 * each keyed under every transport it serves.
 */
export function socketListeners(options: SocketListenerOptions): TransportListeners {
  const { websocket, ...sip } = options;
  const sockets = new SipTransport(sip);
  const listeners: Record<string, SipTransport | WsTransport> = Object.fromEntries(sockets.transports.map((t) => [t.name, sockets]));
  if (websocket && (websocket.ws || websocket.wss)) {
    const ws = new WsTransport({ ...websocket, ...(sip.hosts ? { hosts: sip.hosts } : {}), ...(sip.reusePort ? { reusePort: true } : {}), clock: sip.clock, logger: sip.logger });
    for (const t of ws.transports) listeners[t.name] = ws;
  }
  return listeners as TransportListeners;
}
