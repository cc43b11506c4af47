import type { PublicationKey } from './presence-state-port.js';

/**
 * The subscription's dialog id (RFC 3261 §12: Call-ID plus both tags). `;` appears neither in a Call-ID
 * (§25.1 `word`) nor in a tag (`token`), so joining with it is unambiguous.
 */
export function subscriptionId(callId: string, localTag: string, remoteTag: string): string {
  return `${callId};${localTag};${remoteTag}`;
}

/** A map key for a publication. NUL never occurs in SIP text, so it separates the parts safely. */
export function publicationKeyString(key: PublicationKey): string {
  return `${key.resource}\u0000${key.event}\u0000${key.etag}`;
}
