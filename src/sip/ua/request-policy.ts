import type { SipRequest } from '../message/message.js';
import type { Flow } from '../transport/flow.js';

/**
 * The answers of a request policy: who sent a request (authentication, RFC 3261 §22) and whether it may do what it
 * asks (authorization). The SUBSCRIBE and PUBLISH pipelines ask at their own points, before any side effect; the
 * stack (src/stack/) takes the hooks as its `policy` port. No hook means allowed, which is the server's behaviour
 * without a policy. Hooks are synchronous: the SIP path waits for nothing, so a policy keeps what it reads in memory.
 */

/** The response a refusing policy answers with, e.g. 401 with `WWW-Authenticate`, or 403. */
export interface PolicyResponse {
  readonly status: number;
  /** Reason phrase; default the status's own. */
  readonly reason?: string;
  readonly headers?: readonly (readonly [string, string])[];
}

/** Who a request is from, as the policy established it: a device by its credentials, or a trusted peer by address. */
export interface RequestIdentity {
  readonly kind: 'device' | 'peer';
  /** The device's or the peer entry's id. */
  readonly id: string;
  /** The account it belongs to. */
  readonly accountId: string | null;
  /**
   * A device's SIP user name and its account's realm, as authenticated: the watcher recorded and listed as
   * `user@realm` (security.md §3.2), and what a per-device limit counts by. Absent for a peer.
   */
  readonly user?: string;
  readonly realm?: string;
}

/** The dialog an in-dialog request belongs to, as the policy needs it (security.md §2.6). */
export interface DialogOrigin {
  /** Where the dialog's last accepted request came from: an in-dialog request on this flow is not challenged. */
  readonly flow: { readonly protocol: string; readonly remoteAddress: string; readonly connectionId: number | null };
  /** Who created it; undefined when not known (restored after a restart, or made without an authenticating policy). */
  readonly identity: RequestIdentity | undefined;
}

/** Proceed (as `identity`, when the policy knows it), or answer `response` instead (a challenge, a lockout). */
export type AuthenticationResult =
  | { readonly ok: true; readonly identity?: RequestIdentity }
  | { readonly ok: false; readonly response: PolicyResponse };

/** Allowed, or refused with `response`. */
export type AuthorizationResult = { readonly ok: true } | { readonly ok: false; readonly response: PolicyResponse };

export interface AuthenticationInput {
  readonly request: SipRequest;
  /** The flow it came on (source address and port, connection). */
  readonly flow: Flow;
  /** The account serving the addressed domain, whose realm a challenge names (null on a fresh install). */
  readonly accountId: string | null;
  /** The addressed domain, lower-cased. */
  readonly domain: string;
  /** The request belongs to an existing dialog (a SUBSCRIBE refresh or unsubscribe). */
  readonly inDialog: boolean;
  /** With `inDialog`: the dialog's flow and who created it. */
  readonly dialog?: DialogOrigin | undefined;
}

export type Authenticate = (input: AuthenticationInput) => AuthenticationResult;

/** Respond options for a policy's answer (`IncomingRequest.respond`). */
export function policyAnswer(response: PolicyResponse): { reason?: string; headers: [string, string][] } {
  const headers = (response.headers ?? []).map(([name, value]): [string, string] => [name, value]);
  return response.reason === undefined ? { headers } : { reason: response.reason, headers };
}
