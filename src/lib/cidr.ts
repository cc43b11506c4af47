import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP addresses and CIDR blocks as numbers, for trusted-peer matching (security.md §3.3) asked once per SIP request.
 * IPv4 is a 32-bit unsigned number; IPv6 a 128-bit bigint. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a
 * dual-stack socket reports for an IPv4 peer) is taken as the IPv4 address, in blocks and in sources alike, so a
 * block written either way matches a peer seen either way. An IPv6 block therefore never holds IPv4 sources: `::/0`
 * is every IPv6 peer, `0.0.0.0/0` every IPv4 one.
 */
export type IpFamily = 4 | 6;

export interface ParsedIp {
  family: IpFamily;
  /** IPv4: 0 … 2^32-1 as a number; IPv6: a bigint. */
  value: number | bigint;
}

export interface Cidr {
  family: IpFamily;
  /** The network address: host bits cleared. */
  network: number | bigint;
  prefix: number;
  /** Canonical text: `10.0.0.0/8`, `2001:db8::/32` (a single address keeps its full-length prefix). */
  text: string;
}

const V6_BITS = 128n;
const V6_ALL = (1n << V6_BITS) - 1n;

function parseV4(s: string): number | undefined {
  if (!isIPv4(s)) return undefined;
  const p = s.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function parseV6(s: string): bigint | undefined {
  if (!isIPv6(s)) return undefined;
  let text = s;
  const groups: number[] = [];
  // A dotted IPv4 tail (`::ffff:1.2.3.4`) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let v4Tail: number | undefined;
  if (tail.includes('.')) {
    v4Tail = parseV4(tail);
    if (v4Tail === undefined) return undefined;
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  const part = (h: string): number[] => (h === '' ? [] : h.split(':').map((g) => parseInt(g, 16)));
  const head = part(halves[0]!);
  const rest = halves.length > 1 ? part(halves[1]!) : [];
  const fill = 8 - head.length - rest.length;
  groups.push(...head, ...new Array<number>(Math.max(fill, 0)).fill(0), ...rest);
  if (groups.length !== 8) return undefined;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  if (v4Tail !== undefined) v = (v & ~0xffffffffn) | BigInt(v4Tail);
  return v;
}

/** An address as a number, or undefined when it is not an IP literal. A zone (`fe80::1%eth0`) is ignored. */
export function parseIp(address: string): ParsedIp | undefined {
  const v4 = parseV4(address);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const zone = address.indexOf('%');
  const v6 = parseV6(zone >= 0 ? address.slice(0, zone) : address);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: Number(v6 & 0xffffffffn) };
  return { family: 6, value: v6 };
}

export function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function v6Mask(prefix: number): bigint {
  return prefix === 0 ? 0n : (V6_ALL << (V6_BITS - BigInt(prefix))) & V6_ALL;
}

function v4Text(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** RFC 5952 text: lower-case, leading zeros dropped, the longest run (of two or more) of zero groups as `::`. */
function v6Text(v: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * `10.0.0.0/8`, `2001:db8::/32`, or a single address (`192.0.2.10`, `::1`: a /32 or /128). Host bits set under the
 * prefix (`10.1.2.3/8`) are cleared, as Kamailio's permissions module and `ip route` read them. An IPv4-mapped block
 * (`::ffff:10.0.0.0/104`) becomes the IPv4 block. Undefined for anything else.
 */
export function parseCidr(input: string): Cidr | undefined {
  const s = input.trim();
  if (s.length === 0 || s.length > 64) return undefined;
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  if (addrText.includes('%')) return undefined;
  const prefixText = slash < 0 ? undefined : s.slice(slash + 1);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const v4 = parseV4(addrText);
  if (v4 !== undefined) {
    const prefix = prefixText === undefined ? 32 : Number(prefixText);
    if (prefix > 32) return undefined;
    const network = (v4 & v4Mask(prefix)) >>> 0;
    return { family: 4, network, prefix, text: `${v4Text(network)}/${prefix}` };
  }
  const v6 = parseV6(addrText);
  if (v6 === undefined) return undefined;
  const prefix = prefixText === undefined ? 128 : Number(prefixText);
  if (prefix > 128) return undefined;
  if (v6 >> 32n === 0xffffn && prefix >= 96) {
    const v4Prefix = prefix - 96;
    const network = (Number(v6 & 0xffffffffn) & v4Mask(v4Prefix)) >>> 0;
    return { family: 4, network, prefix: v4Prefix, text: `${v4Text(network)}/${v4Prefix}` };
  }
  const network = v6 & v6Mask(prefix);
  return { family: 6, network, prefix, text: `${v6Text(network)}/${prefix}` };
}
