export { dialogId, idOfDialog, type DialogState } from './dialog-state.js';
export { createUasDialog, remoteTargetOf } from './create-uas-dialog.js';
export { createInDialogRequest, dialogNextHop, routeRequest, type InDialogRequestOptions } from './in-dialog-request.js';
