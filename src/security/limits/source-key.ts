/**
 * The key a source address is rate-limited under: an IPv4 address as it is, an IPv6 address by its /64 prefix. A
 * host is normally given a whole /64 (RFC 6177), so keying by the full address would let one attacker rotate through
 * 2^64 fresh buckets. Addresses come normalised (sip/transport/address.ts: lower-case, IPv4-mapped as IPv4).
 */
export function sourceKey(address: string): string {
  if (!address.includes(':')) return address;
  const scope = address.indexOf('%');
  const bare = scope === -1 ? address : address.slice(0, scope);
  const [head = '', tail] = bare.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  if (tail === undefined) return `${headGroups.slice(0, 4).join(':')}::/64`;
  const tailGroups = tail === '' ? [] : tail.split(':');
  const zeros = Math.max(0, 8 - headGroups.length - tailGroups.length);
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
