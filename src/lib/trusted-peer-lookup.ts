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
