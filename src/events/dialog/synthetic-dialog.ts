import type { ManualState } from '../event-package.js';
import { stableId } from '../common/index.js';
import type { DialogParticipant, DialogRecord } from './dialog-model.js';

/**
 * The id of the dialog we make up ourselves: the idle placeholder and the manual state share it, so a phone sees one
 * dialog move through early, confirmed and terminated (RFC 4235 §4.1.1 ids need only be unique per entity).
 */
export function syntheticDialogId(entity: string): string {
  return stableId('pp-', entity);
}

/**
 * Both participants of a dialog we make up are the entity itself (RFC 4235 §4.1.6: `<local>` and `<remote>` may be in
 * any dialog). Without them pjsua 2.17 crashed: for a dialog with no `<local>`/`<remote>` its parser nulls the string
 * pointers but keeps the lengths of the dialog before, so the idle document after a published call (whose dialogs had
 * them) was read through null. Only the synthetic dialogs are ours to fill: a published dialog keeps what was published.
 */
function entityParty(entity: string): DialogParticipant {
  return { identity: entity };
}

/** RFC 4235 §4.1: an idle resource is reported as one terminated dialog, never as an empty document. */
export function idleDialog(entity: string): DialogRecord {
  return { id: syntheticDialogId(entity), state: 'terminated', local: entityParty(entity), remote: entityParty(entity) };
}

/** Manual state from the API as a dialog: ringing is an incoming early dialog, busy a confirmed one, idle terminated. */
export function manualDialog(entity: string, manual: ManualState): DialogRecord {
  const d: DialogRecord = { id: syntheticDialogId(entity), state: manual };
  if (manual === 'early') d.direction = 'recipient';
  d.local = entityParty(entity);
  d.remote = entityParty(entity);
  return d;
}
