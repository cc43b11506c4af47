import type { AdmitConnection, ConnectionPeer } from '../../sip/transport/admission.js';
import type { TrustedPeerLookup } from './trusted-peers.js';

/**
 * At most `perAddress` connections open from one untrusted address (security.md §4.2, C3: phones open one or two;
 * offices behind NAT and proxies are trusted peers); the global cap stays the transport's own. Trust is asked only of
 * an address already at its cap.
 */
export function createConnectionGate(perAddress: number, trusted: TrustedPeerLookup): AdmitConnection {
  return (peer: ConnectionPeer): boolean =>
    peer.open < perAddress || trusted({ address: peer.address, transport: peer.transport.name }).length > 0;
}
