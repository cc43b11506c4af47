import type { ExpiryBounds } from './event-package.js';
import { EventPackageRegistry } from './event-package.js';
import { createDialogPackage, type DialogHistoryLimits } from './dialog/index.js';
import { createMessageSummaryPackage } from './message-summary/index.js';
import { createPresencePackage } from './presence/index.js';

export interface DefaultRegistryOptions {
  /** Expiry overrides per package name (from config); unset fields keep 3600/60/3600. */
  expires?: Readonly<Record<string, Partial<ExpiryBounds> | undefined>>;
  /** Bounds of the dialog package's per-resource history of ended dialogs. */
  dialogHistory?: Partial<DialogHistoryLimits>;
}

/**
 * The three packages Piston serves, in Allow-Events order: dialog (BLF), presence, message-summary. Lives apart from
 * event-package.ts so that the packages, which import the interface file, do not form an import cycle with it.
 */
export function createDefaultRegistry(options: DefaultRegistryOptions = {}): EventPackageRegistry {
  const expires = options.expires ?? {};
  const dialogOptions = options.dialogHistory ? { history: options.dialogHistory } : {};
  return new EventPackageRegistry()
    .register(createDialogPackage({ ...dialogOptions, ...withExpires(expires['dialog']) }))
    .register(createPresencePackage(withExpires(expires['presence'])))
    .register(createMessageSummaryPackage(withExpires(expires['message-summary'])));
}

function withExpires(e: Partial<ExpiryBounds> | undefined): { expires?: Partial<ExpiryBounds> } {
  return e ? { expires: e } : {};
}
