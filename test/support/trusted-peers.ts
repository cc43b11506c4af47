import { TrustedPeerIndex } from '../../src/accounts/trusted-peer-index.js';
import type { TrustedPeerLookup } from '../../src/lib/trusted-peer-lookup.js';

/** The real index over peers of one account, one per address or CIDR, any transport (security.md §3.3). */
export function peerLookup(accountId: string, cidrs: readonly string[]): TrustedPeerLookup {
  const records = cidrs.map((cidr, i) => ({
    id: `peer-${i}`,
    accountId,
    cidr,
    transport: null,
    fingerprint: null,
    name: null,
    createdAt: 1,
    updatedAt: 1,
  }));
  return new TrustedPeerIndex(() => records).lookup;
}
