import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';

/**
 * Canonical text for an IP address as sockets report it and as Via hosts carry it: IPv6 without brackets and
 * lower-cased, IPv4-mapped IPv6 (`::ffff:a.b.c.d`, seen on dual-stack sockets) as plain IPv4.
 */
export function normalizeAddress(address: string): string {
  let a = address.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  a = a.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return mapped ? mapped[1]! : a;
}

/** 4 or 6 for an IP literal (brackets allowed), 0 for a host name. */
export function addressFamily(host: string): 0 | 4 | 6 {
  return isIP(normalizeAddress(host)) as 0 | 4 | 6;
}

/** True for the wildcard addresses a listener binds to all interfaces with. */
export function isWildcard(address: string): boolean {
  const a = normalizeAddress(address);
  return a === '0.0.0.0' || a === '::';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * A `lookup` for dgram sockets that answers an IP literal at once. dgram passes every destination through its lookup,
 * and dns.lookup answers even a literal on the next tick, so each datagram sent waited for a tick of its own; the
 * transport only ever sends datagrams to addresses. A host name still goes to dns.lookup, with what dgram passed
 * (its family as a number, which dns.lookup also takes).
 */
export function literalFirstLookup(host: string, options: LookupOneOptions, callback: LookupCallback): void {
  const family = isIP(host);
  if (family !== 0) callback(null, host, family);
  else dnsLookup(host, options, callback);
}

/**
 * A host in the `.invalid` top-level domain, which never resolves (RFC 6761 §6.4): what WebSocket clients put in
 * their Via and Contact (RFC 7118 §5.2), so nothing is ever sent there except on their own connection.
 */
export function isInvalidHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'invalid' || h.endsWith('.invalid');
}
