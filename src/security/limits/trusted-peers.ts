export { NO_TRUSTED_PEERS, peerSourceOf, type PeerMatch as TrustedPeerMatch, type PeerSource, type TrustedPeerLookup } from '../../lib/trusted-peer-lookup.js';
