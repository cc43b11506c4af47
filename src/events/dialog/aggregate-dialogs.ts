import type { AggregateInput, Publication } from '../event-package.js';
import { rememberedEnds } from './dialog-history.js';
import {
  interestOf,
  type DialogHistory,
  type DialogHistoryLimits,
  type DialogInfoDocument,
  type DialogRecord,
  type DialogResourceState,
} from './dialog-model.js';
import { manualDialog } from './synthetic-dialog.js';

interface Candidate {
  dialog: DialogRecord;
  seq: number;
}

/**
 * Merges every dialog-info publication of a resource, plus its manual state, into one list (RFC 3903 §4 composition):
 * - publications are taken in arrival order; a dialog id seen in a newer publication (any ETag) replaces the older record;
 * - `terminated` is final (RFC 4235 §3.7.1): once any live publication shows an id terminated, no other record of it
 *   counts, whatever its order; an id remembered in the history as ended is dropped unless shown terminated;
 * - the manual state takes part as one synthetic dialog and wins ties;
 * - the result is sorted most interesting first (early > confirmed > proceeding > trying > terminated), newer first
 *   among equals. An empty list means idle.
 */
export function aggregateDialogs(input: AggregateInput, packageName: string, limits: DialogHistoryLimits): DialogResourceState {
  const pubs = [...((input.publications[packageName] ?? []) as readonly Publication[])].sort((a, b) => a.seq - b.seq);
  const byId = new Map<string, Candidate>();
  for (const pub of pubs) {
    const doc = pub.doc as DialogInfoDocument;
    if (doc.format !== 'dialog-info' || !Array.isArray(doc.dialogs)) continue;
    for (const dialog of doc.dialogs) {
      const seen = byId.get(dialog.id);
      if (seen?.dialog.state === 'terminated' && dialog.state !== 'terminated') continue;
      byId.set(dialog.id, { dialog, seq: pub.seq });
    }
  }

  const ended = rememberedEnds(input.history?.[packageName] as DialogHistory | undefined, input.now, limits);
  const candidates = [...byId.values()].filter((c) => c.dialog.state === 'terminated' || !ended.has(c.dialog.id));
  if (input.manualState) {
    candidates.push({ dialog: manualDialog(input.entity, input.manualState), seq: Number.POSITIVE_INFINITY });
  }
  candidates.sort((a, b) => interestOf(b.dialog.state) - interestOf(a.dialog.state) || b.seq - a.seq);
  return { format: 'dialog-info', dialogs: candidates.map((c) => c.dialog) };
}
