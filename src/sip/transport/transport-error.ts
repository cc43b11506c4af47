import { PistonError } from '../../lib/errors.js';

/**
 * Why a send failed. Callers branch on `code`:
 * - `flow-closed`: the TCP connection of that flow is gone; open a new one with `sendTo` (RFC 3261 §18.2.2).
 * - `connect-failed`: a new connection could not be opened (refused, unreachable, timed out).
 * - `too-large`: the message does not fit a datagram.
 * - `limit`: the connection table is full.
 * - `send-failed`: the socket reported an error while writing.
 * - `closed`: the transport has been closed.
 * - `no-socket`: nothing is listening for that address family / protocol.
 */
export type TransportErrorCode = 'flow-closed' | 'connect-failed' | 'too-large' | 'limit' | 'send-failed' | 'closed' | 'no-socket';

export class TransportError extends PistonError {
  constructor(
    override readonly code: TransportErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}
