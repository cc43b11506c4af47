/**
 * The shared document's wire form (cluster.md §6, `pp:res:{R}` field `doc`): JSON, with each publication body in
 * base64 because bodies are kept byte-exact (RFC 3903 §4.2) and need not be UTF-8.
 */
import type { JsonValue } from '../store/records.js';
import type { ResourceDoc, SharedPublication } from './engine-port.js';

interface WirePublication extends Omit<SharedPublication, 'body'> {
  body: string;
}

interface WireDoc extends Omit<ResourceDoc, 'publications'> {
  publications: WirePublication[];
}

export function encodeDoc(doc: ResourceDoc): string {
  const wire: WireDoc = { ...doc, publications: doc.publications.map((p) => ({ ...p, body: p.body.toString('base64') })) };
  return JSON.stringify(wire);
}

export function decodeDoc(text: string): ResourceDoc {
  const wire = JSON.parse(text) as WireDoc;
  return {
    history: wire.history as JsonValue,
    manualState: wire.manualState,
    mailbox: wire.mailbox,
    publications: wire.publications.map((p) => ({ ...p, body: Buffer.from(p.body, 'base64') })),
  };
}
