import type { AggregateInput, ManualState, Publication } from '../event-package.js';
import type { DialogResourceState } from '../dialog/index.js';
import { noteForActivities } from './activity-note.js';
import type { BasicStatus, CallActivity, PidfDocument, PresenceResourceState } from './presence-model.js';

const CALL_NOTES: Record<Exclude<CallActivity, undefined>, string> = {
  'on-the-phone': 'On the phone',
  busy: 'Ringing',
};

/**
 * The presence of a resource, combining published PIDF documents (RFC 3903) with its calls:
 * - basic status: published documents win (open if any says open); with none, a resource is `open`;
 * - activities: the call activity first (on-the-phone when a dialog is confirmed, busy when one is being set up or
 *   ringing), then the published RPID activities;
 * - note: while a call is going on, the call note (it is fresher than a status line typed earlier); otherwise from the
 *   newest publication that has a note or a published activity: its note, or else a note saying its activity (RFC 3863
 *   §4.1.5 leaves the note to us; phones show it as the status line, so it must not contradict the activity);
 *   otherwise "Available" or "Offline".
 * The calls come from the dialog package's aggregated state in `related[dialogPackage]` (which already includes the
 * manual state); when that package is not registered, from the manual state alone.
 */
export function aggregatePresence(input: AggregateInput, packageName: string, dialogPackage: string): PresenceResourceState {
  const call = callActivity(input.related?.[dialogPackage] as DialogResourceState | undefined, input.manualState);
  const docs = [...((input.publications[packageName] ?? []) as readonly Publication[])]
    .sort((a, b) => b.seq - a.seq)
    .map((p) => p.doc as PidfDocument)
    .filter((d) => d.format === 'pidf');

  const basics = docs.map((d) => d.basic).filter((b): b is BasicStatus => b !== undefined);
  const basic: BasicStatus = basics.length === 0 || basics.includes('open') ? 'open' : 'closed';

  const activities = new Set<string>();
  if (call) activities.add(call);
  for (const d of [...docs].reverse()) for (const a of d.activities ?? []) activities.add(a);

  const note = call ? CALL_NOTES[call] : (publishedNote(docs) ?? (basic === 'open' ? 'Available' : 'Offline'));
  return { format: 'pidf', basic, note, activities: [...activities] };
}

/** The newest publication's own note, or a note for its activities; `docs` are newest first. */
function publishedNote(docs: readonly PidfDocument[]): string | undefined {
  for (const d of docs) {
    const note = d.note ?? noteForActivities(d.activities ?? []);
    if (note !== undefined) return note;
  }
  return undefined;
}

function callActivity(dialogs: DialogResourceState | undefined, manual: ManualState | undefined): CallActivity {
  if (!dialogs || !Array.isArray(dialogs.dialogs)) {
    return manual === 'confirmed' ? 'on-the-phone' : manual === 'early' ? 'busy' : undefined;
  }
  const states = new Set(dialogs.dialogs.map((d) => d.state));
  // A person on an established call is on the phone even while a second call rings (RFC 4480 §3.2).
  if (states.has('confirmed')) return 'on-the-phone';
  if (states.has('early') || states.has('proceeding') || states.has('trying')) return 'busy';
  return undefined;
}
