import { BlockList, isIP } from 'node:net';

/** Where a request came from, as trust is decided: the address and transport, never a header (security.md §3.3). */
export interface PeerSource {
  readonly address: string;
  readonly transport: string;
  /** SHA-256 fingerprint of a TLS client certificate, when one was presented. */
  readonly fingerprint?: string;
}

/** The trusted-peer entries a source matches, each with the account it is trusted for. */
export interface TrustedPeer {
  readonly id: string;
  readonly accountId: string;
}

/**
 * The SIP policy's view of trusted peers (security.md §3.3). The real store, API and index come from the trusted-peer
 * work; this is the seam it plugs into.
 */
export type TrustedPeerLookup = (source: PeerSource) => readonly TrustedPeer[];

export const NO_TRUSTED_PEERS: TrustedPeerLookup = () => [];

/**
 * A lookup over a fixed list of CIDRs for one account: `PISTON_SIP_TRUSTED_PEERS` until trusted peers live with the
 * account's data. `cidrs` is checked by the configuration: `addr` or `addr/prefix`, IPv4 or IPv6.
 */
export function cidrPeerLookup(accountId: () => string | null, cidrs: readonly string[]): TrustedPeerLookup {
  if (cidrs.length === 0) return NO_TRUSTED_PEERS;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [addr, prefix] = cidr.split('/') as [string, string | undefined];
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(addr, prefix === undefined ? (family === 'ipv6' ? 128 : 32) : Number(prefix), family);
  }
  return (source) => {
    const family = isIP(source.address);
    if (family === 0) return [];
    const id = accountId();
    if (id === null || !list.check(source.address, family === 6 ? 'ipv6' : 'ipv4')) return [];
    return [{ id: 'env', accountId: id }];
  };
}

/** Whether `text` is an IPv4/IPv6 address with an optional prefix length in range. */
export function isCidr(text: string): boolean {
  const [addr, prefix, extra] = text.split('/');
  if (extra !== undefined || addr === undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 6 ? 128 : 32);
}
