import { hash } from 'node:crypto';

// Rendering asks for the same few ids on every NOTIFY; remembering them saves a hash per body. Cleared when full, so
// memory stays bounded whatever the number of resources. A miss (each newly watched resource) uses the one-shot
// `crypto.hash`: no Hash object, about 1 µs less than createHash().update().digest() here (issue 19).
const MAX_CACHED = 10_000;
const cache = new Map<string, string>();

/**
 * An identifier derived from the entity alone, so it is the same on every NOTIFY and across restarts: phones that
 * track dialogs by id (RFC 4235 §4.1.1) see one steady idle dialog instead of a new one each time.
 * It starts with the given prefix (a letter), so it is also a valid XML ID (PIDF tuple ids, RFC 3863 §4.1.2).
 */
export function stableId(prefix: string, entity: string): string {
  const key = prefix + '\u0000' + entity;
  let id = cache.get(key);
  if (id === undefined) {
    id = prefix + hash('sha1', entity, 'hex').slice(0, 16);
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, id);
  }
  return id;
}
