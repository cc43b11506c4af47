import { EventBodyError } from '../event-package.js';

/** The bare media type of a Content-Type value: lower-cased, parameters dropped (RFC 3261 §20.15). */
export function mediaTypeOf(contentType: string): string {
  return contentType.split(';', 1)[0]!.trim().toLowerCase();
}

/** Throws 415 unless the Content-Type is one the package takes on PUBLISH (RFC 3903 §6). */
export function requireMediaType(contentType: string, allowed: readonly string[], pkg: string): void {
  const media = mediaTypeOf(contentType);
  if (!allowed.includes(media)) {
    throw new EventBodyError(415, `${pkg} publications must be ${allowed.join(' or ')}, not ${media || 'untyped'}`);
  }
}
