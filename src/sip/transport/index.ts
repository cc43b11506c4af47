export { SipTransport } from './sip-transport.js';
export type { SipTransportOptions, TransportStats } from './sip-transport.js';
export type { TransportLayer, MessageHandler, FlowClosedHandler } from './transport.js';
export { flowKey, formatHostPort, isFlow } from './flow.js';
export type { Flow, Target, TransportProtocol } from './flow.js';
export { TransportError } from './transport-error.js';
export type { TransportErrorCode } from './transport-error.js';
export { stampVia } from './via-stamp.js';
export { normalizeAddress } from './address.js';
