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
