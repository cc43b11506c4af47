export { StoreCredentialDirectory, type CredentialDirectory, type DigestAccount, type DigestDevice } from './credential-directory.js';
export { devicesWithoutDigest, type DeviceWithoutDigest } from './devices-without-digest.js';
export { FailureLockout } from './digest/failure-lockout.js';
export { NcTracker } from './digest/nc-tracker.js';
export { NonceService } from './digest/nonce.js';
export { loadNonceSecret, NONCE_SECRET_FILE, parseNonceSecret, saveNonceSecret } from './nonce-secret.js';
export { createSipAuthPolicy, type SipAuthPolicy, type SipAuthPolicyOptions } from './sip-policy.js';
export { NO_TRUSTED_PEERS, peerRecognition, type PeerSource, type TrustedPeer, type TrustedPeerLookup } from './trusted-peers.js';
