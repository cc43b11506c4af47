import type { TransportName } from './transport-descriptor.js';

/**
 * Where a message came from, or which way it leaves: the transport, both ends, and for TCP the connection.
 * Responses and in-dialog requests go back on the flow a request arrived on (RFC 3261 §18.2.2, RFC 5626 §3),
 * because phones behind NAT are reachable only through the hole their own traffic opened.
 */
export interface Flow {
  /** The transport's name; `transportOf(flow.protocol)` says what it can do (transport-descriptor.ts). */
  protocol: TransportName;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Connection-oriented transports (TCP, TLS, WS, WSS): the connection the message travelled on; absent for UDP. */
  connectionId?: number;
  /**
   * TLS and WSS with a client certificate: its SHA-256 fingerprint (`AB:CD:…`, as Node writes it) and whether it
   * verified against the configured CA, so a trusted peer can be matched by its certificate (security.md §3.3).
   */
  tlsPeer?: TlsPeer;
}

export interface TlsPeer {
  readonly fingerprint256: string;
  readonly authorized: boolean;
}

/** A place to open a new flow to, e.g. from a Contact or Route URI (RFC 3263 resolution is the caller's job). */
export interface Target {
  protocol: TransportName;
  host: string;
  port: number;
}

/** Writes an address and port as `host:port`, bracketing IPv6 literals (RFC 3261 §25.1 `hostport`). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A stable text key for a flow: equal keys mean the same path (and for TCP the same connection). */
export function flowKey(flow: Flow): string {
  const base = `${flow.protocol}|${formatHostPort(flow.localAddress, flow.localPort)}|${formatHostPort(flow.remoteAddress, flow.remotePort)}`;
  return flow.connectionId === undefined ? base : `${base}|${flow.connectionId}`;
}

/** Type guard: a Flow has a remote end, a Target only a host. */
export function isFlow(x: Flow | Target): x is Flow {
  return (x as Flow).remoteAddress !== undefined;
}
