import type { TransportName } from '../../sip/transport/transport-descriptor.js';

/** A request's or connection's source, as trust is decided on it: address, transport, TLS client certificate. */
export interface PeerSource {
  readonly address: string;
  readonly transport: TransportName;
  /** SHA-256 fingerprint of the TLS client certificate, when there is one. */
  readonly fingerprint?: string;
}

/** A trusted peer entry that matched: its id and the account whose list holds it. */
export interface TrustedPeerMatch {
  readonly id: string;
  readonly accountId: string;
}

/**
 * Which trusted peers a source matches (security.md §3.3): empty for an untrusted source. The trust-admin side
 * builds the real index; the limits only ask whether the list is empty, since a trusted peer skips every per-source
 * limit whatever account it serves.
 */
export type TrustedPeerLookup = (source: PeerSource) => readonly TrustedPeerMatch[];

/** The default: nobody is trusted. */
export const NO_TRUSTED_PEERS: TrustedPeerLookup = () => [];
