import type { SipRequest, SipResponse } from '../message/message.js';
import type { Flow } from '../transport/flow.js';

/**
 * What a request handler gets with each request: the means to answer it. For non-INVITE requests this is a
 * NonInviteServerTransaction (RFC 3261 §17.2.2); INVITE and ACK get a StatelessResponder because the UA answers
 * INVITE statelessly with 405.
 */
export interface ServerTransaction {
  readonly request: SipRequest;
  /** The flow the request arrived on; responses go back on it (RFC 3261 §18.2.2). */
  readonly flow: Flow;
  /**
   * Sends a response. Resolves true when the transport took it, false when it could not be sent (the failure is
   * logged and the transaction terminated: RFC 3261 §17.2.4). Never rejects, so callers may fire and forget.
   */
  respond(res: SipResponse): Promise<boolean>;
}
