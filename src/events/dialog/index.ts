export { createDialogPackage, type DialogPackage, type DialogPackageOptions } from './dialog-package.js';
export {
  DIALOG_STATES,
  DEFAULT_HISTORY_LIMITS,
  interestOf,
  parseDialogState,
  type DialogDirection,
  type DialogHistory,
  type DialogHistoryLimits,
  type DialogInfoDocument,
  type DialogParticipant,
  type DialogRecord,
  type DialogResourceState,
  type DialogStateName,
} from './dialog-model.js';
export { DIALOG_INFO_TYPE, parseDialogInfo } from './parse-dialog-info.js';
export { applyDialogPublication } from './dialog-history.js';
export { aggregateDialogs } from './aggregate-dialogs.js';
export { renderDialogInfo } from './render-dialog-info.js';
export { syntheticDialogId } from './synthetic-dialog.js';
