import type { JsonValue } from '../../store/records.js';
import type { ResourceDoc } from '../engine-port.js';
import { decodeDoc, encodeDoc } from '../resource-doc-codec.js';

/**
 * What a change entry carries for other nodes: the resource's whole new document in its wire form, so a receiver
 * replaces its copy without a second read (cluster.md §3 #5: receivers never re-run PUBLISH logic, they replace).
 * Null for a deletion.
 */
export function stateOf(doc: ResourceDoc | null): JsonValue {
  return doc === null ? null : encodeDoc(doc);
}

/** The document an entry carries; undefined when it carries none (a refresh-only entry: read a snapshot). */
export function docOfState(state: JsonValue | null, deleted: boolean): ResourceDoc | null | undefined {
  if (deleted) return null;
  if (typeof state !== 'string') return undefined;
  return decodeDoc(state);
}
