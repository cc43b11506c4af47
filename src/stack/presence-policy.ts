import type { PublishPolicy } from '../presentity/publish/publish-policy.js';
import type { AdmitRequest } from '../sip/transport/transport-set.js';
import type { SubscribePolicy } from '../subscriptions/subscribe-policy.js';

export type { PublishAuthorizationInput, PublishPolicy } from '../presentity/publish/publish-policy.js';
export type { AdmitRequest, RequestSource } from '../sip/transport/transport-set.js';
export type { Admission, ServiceUnavailable } from '../sip/transport/admission.js';
export type {
  Authenticate,
  AuthenticationInput,
  AuthenticationResult,
  AuthorizationResult,
  PolicyResponse,
  RequestIdentity,
} from '../sip/ua/request-policy.js';
export type { SubscribeAuthorizationInput, SubscribePolicy } from '../subscriptions/subscribe-policy.js';

/**
 * The stack's policy port: who may reach the server and what they may do. Each hook is asked at one point:
 *
 *   admit(source)            a parsed request, before any transaction exists: false drops it without an answer,
 *                            `{ retryAfterS }` answers it 503 + Retry-After statelessly (sip/transport/admission.ts)
 *   authenticate(input)      SUBSCRIBE (account and dialog known) and PUBLISH (target's account known): proceed as an
 *                            identity, or answer the policy's response (401 with a challenge, 403 with Retry-After)
 *   authorizeSubscribe(...)  after every SUBSCRIBE check, before anything is created, sent or stored
 *   authorizePublish(...)    after every PUBLISH check, before anything is published, stored or announced
 *
 * An absent hook allows, so `{}` (OPEN_POLICY, the default) admits and allows everything, as the server always has.
 * Hooks are synchronous and run on the SIP path.
 */
export interface PresencePolicy extends SubscribePolicy, PublishPolicy {
  readonly admit?: AdmitRequest | undefined;
}

/** Admits and allows everything. */
export const OPEN_POLICY: PresencePolicy = Object.freeze({});
