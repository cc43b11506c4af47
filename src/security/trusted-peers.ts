import { peerSourceOf, type TrustedPeerLookup } from '../lib/trusted-peer-lookup.js';
import type { Authenticate, RequestIdentity } from '../sip/ua/request-policy.js';

export { NO_TRUSTED_PEERS, type PeerMatch as TrustedPeer, type PeerSource, type TrustedPeerLookup } from '../lib/trusted-peer-lookup.js';

/**
 * The trusted peer a request comes from, for the account that serves the addressed domain (security.md §3.3): by
 * address, transport and, on TLS, the client certificate's fingerprint. A peer of another account is no peer here.
 */
export function peerIdentityOf(
  peers: TrustedPeerLookup,
  input: Parameters<Authenticate>[0],
): { own: RequestIdentity | undefined; otherAccount: boolean } {
  // A peer listed by its client certificate matches only a flow that presented it (transports.md T3).
  const matched = peers(peerSourceOf(input.flow));
  const mine = matched.find((p) => p.accountId === input.accountId);
  return {
    own: mine ? { kind: 'peer', id: mine.id, accountId: mine.accountId } : undefined,
    otherAccount: mine === undefined && matched.length > 0,
  };
}

/**
 * With PISTON_SIP_AUTH=off nobody is challenged, but a trusted peer is still known as one, so that what only peers
 * may do (their Record-Route honoured, their Contact dialled: subscription-dialog.ts) works as with digest on.
 */
export function peerRecognition(peers: TrustedPeerLookup): { readonly authenticate: Authenticate } {
  return {
    authenticate: (input) => {
      const { own } = peerIdentityOf(peers, input);
      return own ? { ok: true, identity: own } : { ok: true };
    },
  };
}
