/**
 * The one question every trust decision asks (security.md §3.3): which trusted-peer entries does a source match?
 * The accounts layer answers it from its index (accounts/trusted-peer-index.ts); the digest policy and the abuse
 * limits ask it. Trust comes from the address, the transport and a TLS client certificate, never from a header.
 */

/** A request's or connection's source as trust is decided on it. */
export interface PeerSource {
  /** The remote IP address (IPv4, IPv6, or IPv4-mapped IPv6 as a dual-stack socket reports it). */
  readonly address: string;
  /** The transport's name: udp, tcp, tls, ws, wss (case-insensitive). */
  readonly transport: string;
  /** SHA-256 of the TLS client certificate, when the flow presented one (colons and case do not matter). */
  readonly fingerprint?: string;
}

/** A peer entry that matched: its id and the account it is trusted for (only that account's domains). */
export interface PeerMatch {
  readonly id: string;
  readonly accountId: string;
}

/** Asked once per request, so answered from memory; empty for an untrusted source. */
export type TrustedPeerLookup = (source: PeerSource) => readonly PeerMatch[];

/** The default: nobody is trusted. */
export const NO_TRUSTED_PEERS: TrustedPeerLookup = () => [];

/** The parts of a flow trust is decided on (sip/transport/flow.ts `Flow`, kept structural: lib imports nothing above it). */
export interface PeerFlow {
  readonly remoteAddress: string;
  readonly protocol: string;
  readonly tlsPeer?: { readonly fingerprint256: string } | undefined;
}

/** A flow as a trust source: address, transport and, when it presented one, its client certificate (transports.md T3). */
export function peerSourceOf(flow: PeerFlow): PeerSource {
  return { address: flow.remoteAddress, transport: flow.protocol, ...(flow.tlsPeer ? { fingerprint: flow.tlsPeer.fingerprint256 } : {}) };
}
