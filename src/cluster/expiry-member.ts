/**
 * Members of the publication expiry index (`pp:pubexp`): `resource|event|etag`. `|` occurs in none of them: a resource
 * is `user@domain` lower-cased from a SIP URI (where `|` would be escaped), an event package name is a token, and our
 * ETags are hex.
 */
import type { PublicationExpiry } from './engine-port.js';

export function expiryMember(resource: string, event: string, etag: string): string {
  return `${resource}|${event}|${etag}`;
}

export function parseExpiryMember(member: string): Omit<PublicationExpiry, 'expiresAt'> {
  const [resource = '', event = '', etag = ''] = member.split('|');
  return { resource, event, etag };
}
