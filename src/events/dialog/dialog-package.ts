import { resolveExpiry, type EventPackage, type ExpiryBounds } from '../event-package.js';
import { aggregateDialogs } from './aggregate-dialogs.js';
import { applyDialogPublication } from './dialog-history.js';
import {
  DEFAULT_HISTORY_LIMITS,
  type DialogHistory,
  type DialogHistoryLimits,
  type DialogInfoDocument,
  type DialogResourceState,
} from './dialog-model.js';
import { DIALOG_INFO_TYPE, parseDialogInfo } from './parse-dialog-info.js';
import { renderDialogInfo } from './render-dialog-info.js';

export interface DialogPackageOptions {
  expires?: Partial<ExpiryBounds>;
  history?: Partial<DialogHistoryLimits>;
}

export type DialogPackage = EventPackage<DialogInfoDocument, DialogResourceState, DialogHistory>;

/** The RFC 4235 dialog event package: what BLF keys subscribe to. */
export function createDialogPackage(options: DialogPackageOptions = {}): DialogPackage {
  const limits: DialogHistoryLimits = {
    maxAgeMs: options.history?.maxAgeMs ?? DEFAULT_HISTORY_LIMITS.maxAgeMs,
    maxEntries: options.history?.maxEntries ?? DEFAULT_HISTORY_LIMITS.maxEntries,
  };
  const name = 'dialog';
  return {
    name,
    contentType: DIALOG_INFO_TYPE,
    acceptTypes: [DIALOG_INFO_TYPE],
    publishTypes: [DIALOG_INFO_TYPE],
    expires: resolveExpiry(options.expires),
    uses: [],
    parsePublication: parseDialogInfo,
    applyPublication: (doc, history, ctx) => applyDialogPublication(doc, history, ctx.now, limits),
    aggregate: (input) => aggregateDialogs(input, name, limits),
    render: renderDialogInfo,
  };
}
