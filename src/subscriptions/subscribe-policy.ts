import type { SipRequest } from '../sip/message/message.js';
import type { Flow } from '../sip/transport/flow.js';
import type { Authenticate, AuthorizationResult, RequestIdentity } from '../sip/ua/request-policy.js';

/** What the SUBSCRIBE pipeline knows when it asks whether the subscription may go ahead. */
export interface SubscribeAuthorizationInput {
  readonly request: SipRequest;
  readonly flow: Flow;
  /** Who authentication said sent it; undefined without an authenticating policy. */
  readonly identity: RequestIdentity | undefined;
  readonly accountId: string | null;
  /** Event package name, and the Event header's `id` (null when absent). */
  readonly event: string;
  readonly eventId: string | null;
  /** The watched user (lower-cased) and domain. */
  readonly resource: string;
  readonly domain: string;
  /** The watcher as From names it. */
  readonly watcherUser: string;
  readonly watcherDomain: string;
  /** A refresh or unsubscribe of an existing subscription (RFC 6665 §4.2.1.2), not a new one or a fetch. */
  readonly inDialog: boolean;
  /** Granted expiry in seconds; 0 unsubscribes or fetches. */
  readonly expires: number;
}

/**
 * The notifier's part of the stack's policy port (request-policy.ts). `authenticate` is asked once the account and
 * the dialog are known, `authorizeSubscribe` after every other check; a refusal is answered as the policy says, and
 * nothing is created, sent or stored. Absent hooks allow.
 */
export interface SubscribePolicy {
  readonly authenticate?: Authenticate | undefined;
  readonly authorizeSubscribe?: ((input: SubscribeAuthorizationInput) => AuthorizationResult) | undefined;
}
