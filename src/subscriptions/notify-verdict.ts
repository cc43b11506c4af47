import type { ClientResult } from '../sip/transaction/non-invite-client-transaction.js';
import type { TransportDescriptor } from '../sip/transport/transport-descriptor.js';
import { TransportError } from '../sip/transport/transport-error.js';
import type { NotifyFailure, RemovalReason } from '../feed/presence-feed.js';

/** Consecutive NOTIFY strikes (UDP timeouts, 408s, 401/407 challenges) a subscription survives before removal. */
export const MAX_STRIKES = 3;

/** What a NOTIFY's outcome means for its subscription. */
export type NotifyVerdict =
  | { kind: 'ok'; status: number }
  /** Counts towards MAX_STRIKES; `reason` is the removal reason when it is the last one. */
  | { kind: 'strike'; failure: NotifyFailure; reason: RemovalReason }
  | { kind: 'remove'; reason: RemovalReason; failure: NotifyFailure }
  /** The flow is gone and may not be re-opened by us: kept as it is until the watcher refreshes on a new flow or it expires. */
  | { kind: 'wait'; failure: NotifyFailure };

/** What the failure policy needs to know about the NOTIFY besides its outcome. */
export interface NotifyAttempt {
  /** The transport it left on (its destination's). */
  transport: TransportDescriptor;
  /** It went on the SUBSCRIBE's flow with nothing to fall back on (an untrusted watcher, subscription-dialog.ts). */
  flowOnly: boolean;
  /** The watcher has answered a NOTIFY of this subscription before (any response), or it was restored from the store. */
  answeredBefore: boolean;
}

/**
 * The failure policy (RFC 6665 §4.2.2 and sip-behaviour.md):
 * - a 2xx resets the strikes; 481 ends the subscription (MUST);
 * - 401 and 407 are a strike on any transport, not an end: Cisco SPA and 8800 phones challenge every NOTIFY that
 *   carries no credentials, and a 401 has "no implied further action" (security.md §2.7, as Kamailio and pjsip do);
 * - a 408 or a timeout over an unreliable transport (UDP) is a strike, since datagrams get lost and phones miss NOTIFYs
 *   now and then, while over a reliable one (TCP) it means the watcher is gone;
 * - but a watcher that has never answered any NOTIFY of the subscription, and whose NOTIFY timed out, is removed at
 *   the first timeout: nothing shows it can be reached there at all (a forged source address, a scanner), and every
 *   further NOTIFY would cost it up to eleven Timer E retransmissions (RFC 3261 §17.1.2.2). Timer E itself is a MUST
 *   for a UDP client transaction, so the bound comes from ending the subscription (RFC 6665 §4.2.2 lets a notifier
 *   remove a subscription whose NOTIFY timed out), not from sending fewer copies;
 * - the flow an untrusted watcher subscribed on is gone (its TCP connection closed) and it may not be dialled: no
 *   strike, the subscription waits for the watcher's refresh on a new flow (RFC 5626 §4.2: the UA re-establishes
 *   the flow) or its expiry;
 * - any other final failure ends the subscription. A transport error is treated like a timeout: over UDP it may be
 *   passing (ICMP), over TCP the connection and its fallback both failed.
 */
export function judgeNotifyResult(result: ClientResult, attempt: NotifyAttempt): NotifyVerdict {
  if (result.kind === 'response') {
    const status = result.response.status;
    if (status >= 200 && status < 300) return { kind: 'ok', status };
    if (status === 481) return { kind: 'remove', reason: 'gone', failure: status };
    if (status === 401 || status === 407) return { kind: 'strike', failure: status, reason: 'rejected' };
    // A response proves the watcher is there, so the first-timeout rule does not apply to a 408.
    if (status === 408) return lost(attempt.transport, true, status);
    return { kind: 'remove', reason: 'rejected', failure: status };
  }
  if (result.kind === 'transport-error' && attempt.flowOnly && attempt.transport.dialable && isFlowClosed(result.error)) {
    return { kind: 'wait', failure: 'transport-error' };
  }
  return lost(attempt.transport, attempt.answeredBefore, result.kind);
}

function lost(transport: TransportDescriptor, answeredBefore: boolean, failure: NotifyFailure): NotifyVerdict {
  if (transport.reliable || !answeredBefore) return { kind: 'remove', reason: 'unreachable', failure };
  return { kind: 'strike', failure, reason: 'unreachable' };
}

function isFlowClosed(err: Error): boolean {
  return err instanceof TransportError && err.code === 'flow-closed';
}
