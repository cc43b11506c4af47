import type { SipUri } from '../message/uri.js';

/**
 * What the rest of the server needs to know about a SIP transport, said once here: nothing outside the transport
 * layer compares transport names.
 *
 *   name  reliable secure stream viaToken uriTransport dialable defaultPort
 *   udp   no       no     no     UDP      udp          yes      5060
 *   tcp   yes      no     yes    TCP      tcp          yes      5060
 *   tls   yes      yes    yes    TLS      tcp (sips:)  yes      5061
 *   ws    yes      no     no     WS       ws           no       80
 *   wss   yes      yes    no     WSS      ws (sips:)   no       443
 */
export interface TransportDescriptor {
  /** Lower-case name: `Flow.protocol`, the stored flow record (so it never changes for an existing transport), logs. */
  readonly name: TransportName;
  /**
   * The transport delivers or reports failure itself (RFC 3261 §17.1.2.2, §17.2.2): no retransmission timers, Timers
   * J and K are zero, and a NOTIFY that times out means the watcher is gone rather than a datagram lost.
   */
  readonly reliable: boolean;
  /** The hop is encrypted (TLS underneath): what a `sips:` URI or `transport=tls` asks for (RFC 3261 §26.2.2). */
  readonly secure: boolean;
  /**
   * Messages are cut out of a byte stream by Content-Length, which is then mandatory (RFC 3261 §18.3); false where
   * each datagram (or WebSocket message, RFC 7118 §5) holds exactly one message.
   */
  readonly stream: boolean;
  /** The transport token of a Via's sent-protocol, `SIP/2.0/<token>` (RFC 3261 §20.42; RFC 7118 §5.2 for WS and WSS). */
  readonly viaToken: string;
  /** The `transport` URI parameter value that names it (RFC 3261 §19.1.1; RFC 7118 §5.2: `ws` for WS and WSS). */
  readonly uriTransport: string;
  /**
   * We can open a new flow to a target over it. False for a flow only the peer can open (a WebSocket: the browser's
   * host is `.invalid`, RFC 7118): requests to such a peer go on its own flow or nowhere.
   */
  readonly dialable: boolean;
  /** The port of a URI or Via sent-by that names none (RFC 3261 §19.1.2, §18.2.2). */
  readonly defaultPort: number;
}

/** The transports this build has. A new one adds its name here and its descriptor below. */
export type TransportName = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

export const UDP: TransportDescriptor = Object.freeze({
  name: 'udp',
  reliable: false,
  secure: false,
  stream: false,
  viaToken: 'UDP',
  uriTransport: 'udp',
  dialable: true,
  defaultPort: 5060,
});

export const TCP: TransportDescriptor = Object.freeze({
  name: 'tcp',
  reliable: true,
  secure: false,
  stream: true,
  viaToken: 'TCP',
  uriTransport: 'tcp',
  dialable: true,
  defaultPort: 5060,
});

/** SIP over TLS over TCP (RFC 3261 §26.2, RFC 5630): what `sips:` and `transport=tls` reach. */
export const TLS: TransportDescriptor = Object.freeze({
  name: 'tls',
  reliable: true,
  secure: true,
  stream: true,
  viaToken: 'TLS',
  uriTransport: 'tcp',
  dialable: true,
  defaultPort: 5061,
});

/**
 * SIP over WebSocket (RFC 7118): one message per WebSocket message, and only the browser can open the connection
 * (its Via and Contact hosts are `.invalid`), so requests to it go on its connection or nowhere.
 */
export const WS: TransportDescriptor = Object.freeze({
  name: 'ws',
  reliable: true,
  secure: false,
  stream: false,
  viaToken: 'WS',
  uriTransport: 'ws',
  dialable: false,
  defaultPort: 80,
});

/** SIP over secure WebSocket (RFC 7118 §5.2: Via `WSS`, URI `transport=ws` with `sips:`). */
export const WSS: TransportDescriptor = Object.freeze({
  name: 'wss',
  reliable: true,
  secure: true,
  stream: false,
  viaToken: 'WSS',
  uriTransport: 'ws',
  dialable: false,
  defaultPort: 443,
});

const BY_NAME: Readonly<Record<TransportName, TransportDescriptor>> = Object.freeze({ udp: UDP, tcp: TCP, tls: TLS, ws: WS, wss: WSS });

/** Every transport this build has. */
export const TRANSPORTS: readonly TransportDescriptor[] = Object.freeze(Object.values(BY_NAME));

/** The descriptor of a flow's or target's transport. */
export function transportOf(name: TransportName): TransportDescriptor {
  return BY_NAME[name];
}

/** The descriptor for a name read from outside (a stored flow record); undefined for a transport this build lacks. */
export function transportNamed(name: string): TransportDescriptor | undefined {
  return Object.hasOwn(BY_NAME, name) ? BY_NAME[name as TransportName] : undefined;
}

/**
 * The transport a SIP URI asks for: its `transport` parameter, and TLS for `sips:` or `transport=tls` (RFC 3261
 * §19.1.1, §26.2.2). A `sip:` URI without the parameter takes `otherwise` (the caller's flow). Undefined when the URI
 * asks for a transport this build lacks (SCTP, say): such a URI is never reached over another transport instead,
 * which for `sips:` would be a silent downgrade to plaintext.
 */
export function transportForUri(uri: SipUri, otherwise: TransportDescriptor): TransportDescriptor | undefined {
  const param = uri.params.get('transport')?.toLowerCase();
  const sips = uri.scheme === 'sips';
  if (param === undefined && !sips) return otherwise;
  const secure = sips || param === 'tls';
  // `sips:` without a parameter, and the older `transport=tls` (RFC 5630 deprecates it), both mean TLS over TCP.
  const token = param === undefined || param === 'tls' ? TCP.uriTransport : param;
  return TRANSPORTS.find((d) => d.uriTransport === token && d.secure === secure);
}

/**
 * A SIP URI that reaches `hostPart` (`[user@]host:port`) over `transport`: `sips:` for a secure one, and a `transport`
 * parameter unless the scheme already implies it (RFC 3263 §4.1 with a numeric host and port: UDP for `sip:`, TCP
 * under TLS for `sips:`). Used for our Contact, so that the peer's requests come back over the same transport.
 */
export function uriFor(transport: TransportDescriptor, hostPart: string): string {
  const scheme = transport.secure ? 'sips' : 'sip';
  const implied = transport.secure ? TCP.uriTransport : UDP.uriTransport;
  return transport.uriTransport === implied ? `${scheme}:${hostPart}` : `${scheme}:${hostPart};transport=${transport.uriTransport}`;
}
