import type { Publication, PublishedDocument } from '../events/event-package.js';
import type { JsonValue, PublicationRecord } from '../store/records.js';
import type { ResourceKey } from './resource-key.js';

/**
 * One publication as held in memory (RFC 3903 §4): the aggregation view (`view`, handed to the event packages as
 * it is) plus what the store and the admin API need.
 */
export interface LivePublication {
  readonly resource: ResourceKey;
  readonly event: string;
  readonly etag: string;
  readonly seq: number;
  readonly contentType: string;
  /** The body exactly as published (RFC 3903 §4.2 keeps it byte-exact). */
  readonly body: Buffer;
  readonly expiresAt: number;
  readonly updatedAt: number;
  /** `{etag, seq, doc}` for `AggregateInput.publications`; built once, shared by every aggregation. */
  readonly view: Publication;
}

export function livePublication(fields: Omit<LivePublication, 'view'> & { doc: PublishedDocument }): LivePublication {
  const { doc, ...rest } = fields;
  return { ...rest, view: { etag: fields.etag, seq: fields.seq, doc } };
}

export function toRecord(p: LivePublication): PublicationRecord {
  return {
    resource: p.resource,
    event: p.event,
    etag: p.etag,
    seq: p.seq,
    contentType: p.contentType,
    body: p.body,
    // Package documents are plain JSON-able values by contract (event-package.ts).
    document: p.view.doc as unknown as JsonValue,
    expiresAt: p.expiresAt,
    updatedAt: p.updatedAt,
  };
}

