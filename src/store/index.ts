// The persistence ports, admin data and presence state (ports.ts). Backends live in ./memory and ./sqlite; main.ts picks one.
export type * from './records.js';
export type * from './ports.js';
export { StoreError } from './store-error.js';
export { subscriptionId, publicationKeyString } from './keys.js';
