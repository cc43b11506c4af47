import type { SipRequest } from '../../sip/message/message.js';
import type { Authenticate, AuthenticationInput, AuthorizationResult, RequestIdentity } from '../../sip/ua/request-policy.js';
import type { ResourceKey } from '../resource-key.js';

/** What the PUBLISH pipeline knows when it asks whether the change may be made. */
export interface PublishAuthorizationInput {
  readonly request: SipRequest;
  /** The flow it came on (the transport layer's Flow). */
  readonly flow: AuthenticationInput['flow'];
  /** Who authentication said sent it; undefined without an authenticating policy. */
  readonly identity: RequestIdentity | undefined;
  readonly accountId: string | null;
  /** The presentity (`user@domain`) and the event package published for. */
  readonly resource: ResourceKey;
  readonly event: string;
  /** What the PUBLISH would do to the event state (RFC 3903 §4.2-§4.5). */
  readonly action: 'create' | 'modify' | 'refresh' | 'remove';
}

/**
 * The presentity's part of the stack's policy port (sip/ua/request-policy.ts). `authenticate` is asked once the
 * target's account is known, `authorizePublish` after every RFC 3903 check, just before the change: a refusal is
 * answered as the policy says and nothing is published, stored or announced. Absent hooks allow.
 */
export interface PublishPolicy {
  readonly authenticate?: Authenticate | undefined;
  readonly authorizePublish?: ((input: PublishAuthorizationInput) => AuthorizationResult) | undefined;
}
