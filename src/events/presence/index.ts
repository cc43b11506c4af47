export { createPresencePackage, type PresencePackage, type PresencePackageOptions } from './presence-package.js';
export {
  RPID_ACTIVITIES,
  type BasicStatus,
  type CallActivity,
  type PidfDocument,
  type PresenceResourceState,
} from './presence-model.js';
export { PIDF_TYPE, parsePidf } from './parse-pidf.js';
export { aggregatePresence } from './aggregate-presence.js';
export { renderPidf } from './render-pidf.js';
