import { resolveExpiry, type EventPackage, type ExpiryBounds } from '../event-package.js';
import { aggregatePresence } from './aggregate-presence.js';
import { PIDF_TYPE, parsePidf } from './parse-pidf.js';
import type { PidfDocument, PresenceResourceState } from './presence-model.js';
import { renderPidf } from './render-pidf.js';

export interface PresencePackageOptions {
  expires?: Partial<ExpiryBounds>;
  /** Name of the package whose aggregated dialog state feeds the call activity; `dialog` by default. */
  dialogPackage?: string;
}

export type PresencePackage = EventPackage<PidfDocument, PresenceResourceState, undefined>;

/** The RFC 3856 presence event package with PIDF bodies (RFC 3863). */
export function createPresencePackage(options: PresencePackageOptions = {}): PresencePackage {
  const name = 'presence';
  const dialogPackage = options.dialogPackage ?? 'dialog';
  return {
    name,
    contentType: PIDF_TYPE,
    acceptTypes: [PIDF_TYPE],
    publishTypes: [PIDF_TYPE],
    expires: resolveExpiry(options.expires),
    uses: [dialogPackage],
    parsePublication: parsePidf,
    // Published PIDF documents need no memory across publications: each ETag's document simply replaces the last.
    applyPublication: (doc) => ({ doc, history: undefined }),
    aggregate: (input) => aggregatePresence(input, name, dialogPackage),
    render: renderPidf,
  };
}
