import type { AggregateInput, ManualState, Publication, PublishedDocument } from '../../../src/events/event-package.js';
import type { DialogInfoDocument, DialogRecord, DialogStateName } from '../../../src/events/dialog/index.js';

export const ENTITY = 'sip:1001@example.com';

/** A dialog-info+xml body with the given dialogs, in the shape Kamailio's pua_dialoginfo sends. */
export function dialogInfoXml(dialogs: Array<{ id: string; state: string; extra?: string; inner?: string }>, entity = ENTITY): Buffer {
  const body = dialogs
    .map((d) => `  <dialog id="${d.id}"${d.extra ?? ''}>\n    <state>${d.state}</state>\n${d.inner ?? ''}  </dialog>\n`)
    .join('');
  return Buffer.from(
    `<?xml version="1.0"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="${entity}">\n${body}</dialog-info>\n`,
  );
}

export function dialog(id: string, state: DialogStateName, more: Partial<DialogRecord> = {}): DialogRecord {
  return { id, state, ...more };
}

export function doc(...dialogs: DialogRecord[]): DialogInfoDocument {
  return { format: 'dialog-info', dialogs };
}

export function pub<D extends PublishedDocument>(etag: string, seq: number, d: D): Publication {
  return { etag, seq, doc: d };
}

export function input(
  publications: Record<string, Publication[]>,
  more: { manualState?: ManualState; history?: Record<string, unknown>; now?: number } = {},
): AggregateInput {
  return { entity: ENTITY, now: more.now ?? 1_700_000_000_000, publications, ...more };
}
