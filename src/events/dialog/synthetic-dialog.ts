import type { ManualState } from '../event-package.js';
import { stableId } from '../common/index.js';
import type { DialogRecord } from './dialog-model.js';

/**
 * The id of the dialog we make up ourselves: the idle placeholder and the manual state share it, so a phone sees one
 * dialog move through early, confirmed and terminated (RFC 4235 §4.1.1 ids need only be unique per entity).
 */
export function syntheticDialogId(entity: string): string {
  return stableId('pp-', entity);
}

/** RFC 4235 §4.1: an idle resource is reported as one terminated dialog, never as an empty document. */
export function idleDialog(entity: string): DialogRecord {
  return { id: syntheticDialogId(entity), state: 'terminated' };
}

/** Manual state from the API as a dialog: ringing is an incoming early dialog, busy a confirmed one, idle terminated. */
export function manualDialog(entity: string, manual: ManualState): DialogRecord {
  const d: DialogRecord = { id: syntheticDialogId(entity), state: manual };
  if (manual === 'early') d.direction = 'recipient';
  return d;
}
