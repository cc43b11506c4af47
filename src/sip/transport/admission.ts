import type { SipRequest } from '../message/message.js';
import { createResponse } from '../message/response-factory.js';
import type { SipResponse } from '../message/message.js';
import { newTag } from '../../lib/ids.js';
import type { TransportDescriptor } from './transport-descriptor.js';
import type { PeerSendAllowance } from './send-backlog.js';

/**
 * What the admission gate (transport-set.ts `admit`) may answer for a request, before any transaction exists:
 *
 *   true                      admitted
 *   false                     dropped silently: no transaction, no response (a UDP flood, a scanner)
 *   { retryAfterS }           answered statelessly 503 + Retry-After and not handed up (a flood on a connection,
 *                             whose sender would otherwise wait out Timer F; RFC 3261 §21.5.4, §20.33)
 *
 * Never 429: in SIP it is "Provide Referrer Identity" (RFC 3892).
 */
export type Admission = boolean | ServiceUnavailable;

export interface ServiceUnavailable {
  /** Seconds the sender should wait (Retry-After). */
  readonly retryAfterS: number;
}

/** The stateless 503 for a refused request, or undefined when none may be sent (ACK: RFC 3261 §17.2.3 never answers it). */
export function serviceUnavailable(req: SipRequest, refusal: ServiceUnavailable): SipResponse | undefined {
  if (req.method === 'ACK' || !req.headers.has('via')) return undefined;
  const retry = Math.max(1, Math.ceil(refusal.retryAfterS));
  return createResponse(req, 503, undefined, { toTag: newTag(), headers: [['Retry-After', String(retry)]] });
}

/** A connection being accepted, as the connection gate sees it. */
export interface ConnectionPeer {
  /** Remote address, normalised (address.ts). */
  readonly address: string;
  readonly transport: TransportDescriptor;
  /** Connections from that address open now, not counting this one. */
  readonly open: number;
}

/** False refuses a new inbound connection at accept (the socket is destroyed before any byte is read). */
export type AdmitConnection = (peer: ConnectionPeer) => boolean;

/** Why a connection was closed by a limit, for counters. */
export type ConnectionLimitReason = 'first-bytes' | 'message-deadline' | 'byte-budget' | 'per-address' | 'total' | 'send-backlog';

/**
 * Limits on inbound connections shared by the stream transports (TCP today; TLS and WS take the same): who may
 * connect, how soon a connection must speak and finish a message it began (Kamailio: 20 s each), and a global byte
 * budget for what the framers hold while waiting for the rest of a message.
 */
export interface ConnectionLimits {
  /** The gate at accept; default every connection (within the global cap). */
  readonly admit?: AdmitConnection | undefined;
  /** An inbound connection that sends nothing for this long after accept is closed; 0 or absent: no deadline. */
  readonly firstBytesMs?: number | undefined;
  /** A message begun must be complete within this long, else the connection is closed; 0 or absent: no deadline. */
  readonly messageMs?: number | undefined;
  /** Bytes all framers together may hold; the connection whose bytes pass it is closed. */
  readonly budget?: ByteBudget | undefined;
  /** A trusted peer's larger room for unsent bytes while it drains (send-backlog.ts); absent: the common limit for all. */
  readonly sendAllowance?: PeerSendAllowance | undefined;
  /** Told of each connection refused or closed by one of these limits (metrics). */
  readonly onLimit?: ((reason: ConnectionLimitReason) => void) | undefined;
}

/** A shared count of bytes against a ceiling. */
export class ByteBudget {
  private held = 0;

  constructor(readonly limit: number) {}

  get used(): number {
    return this.held;
  }

  /** Moves the holding by `delta` (negative releases); false when the ceiling is passed (the bytes are not taken). */
  adjust(delta: number): boolean {
    if (delta > 0 && this.held + delta > this.limit) return false;
    this.held = Math.max(0, this.held + delta);
    return true;
  }
}
