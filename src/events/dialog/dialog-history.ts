import type { DialogHistory, DialogHistoryLimits, DialogInfoDocument, DialogRecord } from './dialog-model.js';

/**
 * Terminated dialog ids still remembered at `now`, oldest first. Tolerates a missing or damaged stored value:
 * history only ever suppresses stale state, so losing it degrades gracefully.
 */
export function rememberedEnds(history: DialogHistory | undefined, now: number, limits: DialogHistoryLimits): Map<string, number> {
  const ended = new Map<string, number>();
  if (!history || !Array.isArray(history.ended)) return ended;
  for (const entry of history.ended) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') continue;
    if (now - entry[1] > limits.maxAgeMs) continue;
    ended.delete(entry[0]);
    ended.set(entry[0], entry[1]);
  }
  return ended;
}

/**
 * Applies a newly accepted dialog-info publication to the resource's history (RFC 3903 §4, RFC 4235 §3.7.1):
 * - dialogs the document shows terminated are remembered with the time they ended;
 * - a non-terminated dialog whose id already ended is dropped from the document, because `terminated` is final and
 *   a late `early` (a delayed or reordered PUBLISH) must never light the lamp again;
 * - an id listed twice in one document keeps its terminated entry if it has one, else its last entry.
 */
export function applyDialogPublication(
  doc: DialogInfoDocument,
  history: DialogHistory | undefined,
  now: number,
  limits: DialogHistoryLimits,
): { doc: DialogInfoDocument; history: DialogHistory } {
  const ended = rememberedEnds(history, now, limits);
  const byId = new Map<string, DialogRecord>();
  for (const d of doc.dialogs) {
    const seen = byId.get(d.id);
    if (seen?.state === 'terminated' && d.state !== 'terminated') continue;
    byId.set(d.id, d);
  }
  const kept: DialogRecord[] = [];
  for (const d of byId.values()) {
    if (d.state === 'terminated') {
      // Re-inserting moves the id to the newest end, so size trimming drops the oldest ends first.
      ended.delete(d.id);
      ended.set(d.id, now);
      kept.push(d);
    } else if (!ended.has(d.id)) {
      kept.push(d);
    }
  }
  const entries = [...ended].slice(-limits.maxEntries);
  return { doc: { ...doc, dialogs: kept }, history: { ended: entries } };
}
