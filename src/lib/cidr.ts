/**
 * IP addresses and CIDR blocks as numbers, for trusted-peer matching (security.md §3.3), asked once per SIP request:
 * the parsers are hand-written loops (node:net's isIP and a split/parseInt parse cost several microseconds each).
 * IPv4 is a 32-bit unsigned number; IPv6 four 32-bit words, most significant first. An IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4 peer) is taken as the IPv4 address, in blocks and
 * in sources alike, so a block written either way matches a peer seen either way. An IPv6 block therefore never holds
 * IPv4 sources: `::/0` is every IPv6 peer, `0.0.0.0/0` every IPv4 one.
 */
export type ParsedIp = { family: 4; value: number } | { family: 6; words: readonly [number, number, number, number] };

export type Cidr =
  | { family: 4; network: number; prefix: number; text: string }
  | { family: 6; words: readonly [number, number, number, number]; prefix: number; text: string };

const DIGIT_0 = 48;
const COLON = 58;
const DOT = 46;

/** Dotted quad between `from` and `to` of `s`, or -1. Leading zeros are refused (`010` is octal to some parsers). */
function v4At(s: string, from: number, to: number): number {
  let value = 0;
  let parts = 0;
  let octet = -1;
  let digits = 0;
  for (let i = from; i <= to; i++) {
    const c = i === to ? DOT : s.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || parts === 4) return -1;
      value = value * 256 + octet;
      parts++;
      octet = -1;
      digits = 0;
      continue;
    }
    const d = c - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    if (digits > 0 && octet === 0) return -1;
    octet = octet < 0 ? d : octet * 10 + d;
    if (octet > 255 || ++digits > 3) return -1;
  }
  return parts === 4 ? value : -1;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** The eight groups of an IPv6 literal (RFC 4291 §2.2 text forms), or undefined. */
function v6Groups(s: string): number[] | undefined {
  const n = s.length;
  if (n < 2 || n > 45) return undefined;
  const head: number[] = [];
  const tail: number[] = [];
  let gap = false;
  let i = 0;
  if (s.charCodeAt(0) === COLON) {
    if (s.charCodeAt(1) !== COLON) return undefined;
    gap = true;
    i = 2;
  }
  while (i < n) {
    const groups = gap ? tail : head;
    // An IPv4 tail: the rest holds a dot.
    let j = i;
    let value = 0;
    let sawDot = false;
    for (; j < n; j++) {
      const c = s.charCodeAt(j);
      if (c === COLON) break;
      if (c === DOT) sawDot = true;
    }
    if (sawDot) {
      if (j !== n) return undefined;
      const v4 = v4At(s, i, n);
      if (v4 < 0) return undefined;
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
      i = n;
      break;
    }
    if (j === i || j - i > 4) return undefined;
    for (let k = i; k < j; k++) {
      const d = hexDigit(s.charCodeAt(k));
      if (d < 0) return undefined;
      value = value * 16 + d;
    }
    groups.push(value);
    if (j === n) {
      i = n;
      break;
    }
    // j is a colon: another group follows, or `::`.
    if (s.charCodeAt(j + 1) === COLON) {
      if (gap) return undefined;
      gap = true;
      i = j + 2;
      if (i === n) break;
    } else {
      i = j + 1;
      if (i === n) return undefined;
    }
  }
  const count = head.length + tail.length;
  if (gap ? count > 7 : count !== 8) return undefined;
  const out = head.slice();
  for (let k = count; k < 8; k++) out.push(0);
  for (let k = 0; k < tail.length; k++) out[8 - tail.length + k] = tail[k]!;
  return out;
}

function wordsOf(g: number[]): [number, number, number, number] {
  return [
    ((g[0]! << 16) | g[1]!) >>> 0,
    ((g[2]! << 16) | g[3]!) >>> 0,
    ((g[4]! << 16) | g[5]!) >>> 0,
    ((g[6]! << 16) | g[7]!) >>> 0,
  ];
}

const isMapped = (w: readonly number[]): boolean => w[0] === 0 && w[1] === 0 && w[2] === 0xffff;

/** An address as numbers, or undefined when it is not an IP literal. A zone (`fe80::1%eth0`) is ignored. */
export function parseIp(address: string): ParsedIp | undefined {
  const v4 = v4At(address, 0, address.length);
  if (v4 >= 0) return { family: 4, value: v4 };
  const zone = address.indexOf('%');
  const groups = v6Groups(zone >= 0 ? address.slice(0, zone) : address);
  if (!groups) return undefined;
  const words = wordsOf(groups);
  if (isMapped(words)) return { family: 4, value: words[3] };
  return { family: 6, words };
}

export function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The four word masks of an IPv6 prefix length. */
export function v6Mask(prefix: number): [number, number, number, number] {
  const m: [number, number, number, number] = [0, 0, 0, 0];
  for (let w = 0; w < 4; w++) m[w] = v4Mask(Math.max(0, Math.min(32, prefix - w * 32)));
  return m;
}

/** Masked words as one Map key. */
export function v6Key(words: readonly number[], mask: readonly number[]): string {
  return `${(words[0]! & mask[0]!) >>> 0}.${(words[1]! & mask[1]!) >>> 0}.${(words[2]! & mask[2]!) >>> 0}.${(words[3]! & mask[3]!) >>> 0}`;
}

function v4Text(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** RFC 5952 text: lower-case, leading zeros dropped, the longest run (of two or more) of zero groups as `::`. */
function v6Text(words: readonly number[]): string {
  const groups: number[] = [];
  for (const w of words) groups.push(w >>> 16, w & 0xffff);
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
  const v4 = v4At(addrText, 0, addrText.length);
  if (v4 >= 0) {
    const prefix = prefixText === undefined ? 32 : Number(prefixText);
    if (prefix > 32) return undefined;
    const network = (v4 & v4Mask(prefix)) >>> 0;
    return { family: 4, network, prefix, text: `${v4Text(network)}/${prefix}` };
  }
  const groups = v6Groups(addrText);
  if (!groups) return undefined;
  const words = wordsOf(groups);
  const prefix = prefixText === undefined ? 128 : Number(prefixText);
  if (prefix > 128) return undefined;
  if (isMapped(words) && prefix >= 96) {
    const v4Prefix = prefix - 96;
    const network = (words[3] & v4Mask(v4Prefix)) >>> 0;
    return { family: 4, network, prefix: v4Prefix, text: `${v4Text(network)}/${v4Prefix}` };
  }
  const mask = v6Mask(prefix);
  const network: [number, number, number, number] = [0, 0, 0, 0];
  for (let w = 0; w < 4; w++) network[w] = (words[w]! & mask[w]!) >>> 0;
  return { family: 6, words: network, prefix, text: `${v6Text(network)}/${prefix}` };
}
