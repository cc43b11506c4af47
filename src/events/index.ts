export * from './event-package.js';
export { createDefaultRegistry, type DefaultRegistryOptions } from './default-registry.js';
export * from './dialog/index.js';
export * from './presence/index.js';
export * from './message-summary/index.js';
