import { jsonEqual } from '../../lib/json-equal.js';
import type { ResourceDoc } from '../engine-port.js';

/**
 * Three-way merge of a resource's document for changes made while the shared copy may have moved on (island mode's
 * outbox, the admin API's set/reset, a re-push after the engine lost its data): `base` is what this node last knew
 * from the engine, `ours` what it holds now, `theirs` the engine's current copy. Publications are merged by
 * (event, etag): ours added since `base` are kept, those we dropped since `base` go; every other field is ours when
 * we changed it, else theirs. Null when nothing is left.
 */
export function mergeDocs(base: ResourceDoc | null, ours: ResourceDoc | null, theirs: ResourceDoc | null, now: number): ResourceDoc | null {
  const key = (p: { event: string; etag: string }): string => `${p.event}\u0000${p.etag}`;
  const baseKeys = new Set((base?.publications ?? []).map(key));
  const ourKeys = new Set((ours?.publications ?? []).map(key));
  const publications = (theirs?.publications ?? []).filter((p) => !(baseKeys.has(key(p)) && !ourKeys.has(key(p))));
  const kept = new Set(publications.map(key));
  for (const p of ours?.publications ?? []) if (!baseKeys.has(key(p)) && !kept.has(key(p))) publications.push(p);
  // Expired ones are gone whoever held them (RFC 3903 §6); the sweeper would only remove them again.
  const live = publications.filter((p) => p.expiresAt > now).sort((a, b) => a.seq - b.seq);
  const pick = <T>(field: (d: ResourceDoc | null) => T): T => (jsonEqual(field(ours), field(base)) ? field(theirs) : field(ours));
  const merged: ResourceDoc = {
    publications: live,
    history: pick((d) => d?.history ?? {}),
    manualState: pick((d) => d?.manualState ?? null),
    mailbox: countsOf(ours) === countsOf(base) ? (theirs?.mailbox ?? null) : (ours?.mailbox ?? null),
  };
  return isEmptyDoc(merged) ? null : merged;
}

/** The mailbox counts without their timestamp, as text (for comparison). */
function countsOf(d: ResourceDoc | null): string {
  const m = d?.mailbox;
  return m ? `${m.newMessages}/${m.oldMessages}/${m.urgentNew}/${m.urgentOld}` : '';
}

/** Nothing published, no manual state, no mailbox and no history: the engine deletes such a resource. */
export function isEmptyDoc(doc: ResourceDoc | null): boolean {
  if (!doc) return true;
  return doc.publications.length === 0 && doc.manualState === null && doc.mailbox === null && holdsNothing(doc.history);
}

/** Same content, ignoring the order of publications and the mailbox's timestamp. */
export function sameDoc(a: ResourceDoc | null, b: ResourceDoc | null): boolean {
  if (isEmptyDoc(a) || isEmptyDoc(b)) return isEmptyDoc(a) && isEmptyDoc(b);
  const x = a!;
  const y = b!;
  if (x.publications.length !== y.publications.length || x.manualState !== y.manualState || countsOf(x) !== countsOf(y)) return false;
  if (!jsonEqual(x.history, y.history)) return false;
  const ys = new Map(y.publications.map((p) => [`${p.event}\u0000${p.etag}`, p]));
  return x.publications.every((p) => {
    const q = ys.get(`${p.event}\u0000${p.etag}`);
    return q !== undefined && q.expiresAt === p.expiresAt && q.seq === p.seq && q.body.equals(p.body);
  });
}

function holdsNothing(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.values(value).every(holdsNothing);
  return false;
}
