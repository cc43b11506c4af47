// The SIP stack, built in one place from its ports (transports, policy, feed) and the store, clock and logger.
export { createPresenceStack, type PresenceStack, type PresenceStackOptions } from './presence-stack.js';
export { OPEN_POLICY } from './presence-policy.js';
export type * from './presence-policy.js';
export { socketListeners } from './socket-listeners.js';
export { composePolicies } from './compose-policy.js';
