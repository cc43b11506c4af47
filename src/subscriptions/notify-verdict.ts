import type { ClientResult } from '../sip/transaction/non-invite-client-transaction.js';
import type { TransportDescriptor } from '../sip/transport/transport-descriptor.js';
import type { NotifyFailure, RemovalReason } from '../feed/presence-feed.js';

/** Consecutive UDP NOTIFY timeouts a subscription survives before removal (sip-behaviour.md, failure policy). */
export const MAX_STRIKES = 3;

/** What a NOTIFY's outcome means for its subscription. */
export type NotifyVerdict =
  | { kind: 'ok'; status: number }
  | { kind: 'strike'; failure: NotifyFailure }
  | { kind: 'remove'; reason: RemovalReason; failure: NotifyFailure };

/**
 * The failure policy (RFC 6665 §4.2.2 and sip-behaviour.md): a 2xx resets the strikes; 481 ends the subscription
 * (MUST); a 408 or a timeout over an unreliable transport (UDP) is a strike, since datagrams get lost and phones miss
 * NOTIFYs now and then, while over a reliable one (TCP) it means the watcher is gone; any other final failure ends
 * the subscription, except a 401/407 challenge, which is a strike on any transport. A transport error is treated like a timeout: over UDP it may be passing (ICMP), over TCP the
 * connection and its fallback both failed.
 */
export function judgeNotifyResult(result: ClientResult, transport: TransportDescriptor): NotifyVerdict {
  if (result.kind === 'response') {
    const status = result.response.status;
    if (status >= 200 && status < 300) return { kind: 'ok', status };
    if (status === 481) return { kind: 'remove', reason: 'gone', failure: status };
    if (status === 408) return lost(transport, status);
    // A phone that challenges our NOTIFY (Cisco SPA/MPP) still has the subscription: a 401/407 carries "no implied
    // further action" (security.md §2.7). A strike on any transport; three in a row remove it, a 2xx resets.
    if (status === 401 || status === 407) return { kind: 'strike', failure: status };
    return { kind: 'remove', reason: 'rejected', failure: status };
  }
  return lost(transport, result.kind);
}

function lost(transport: TransportDescriptor, failure: NotifyFailure): NotifyVerdict {
  return transport.reliable ? { kind: 'remove', reason: 'unreachable', failure } : { kind: 'strike', failure };
}
