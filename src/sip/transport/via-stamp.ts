import type { SipRequest } from '../message/message.js';
import { normalizeAddress } from './address.js';

/**
 * Marks an incoming request's top Via with where it really came from, so responses can find their way back:
 * - `received` when the sent-by host differs from the source address (RFC 3261 §18.2.1);
 * - with an empty `rport` (the client asks for symmetric response routing), `rport` gets the source port and
 *   `received` is set even when the address matches (RFC 3581 §4).
 * Throws ParseError when the top Via does not parse; the caller decides what to do with such a request.
 * Returns true when the Via was changed.
 */
export function stampVia(req: SipRequest, sourceAddress: string, sourcePort: number): boolean {
  const via = req.topVia;
  const source = normalizeAddress(sourceAddress);
  const params = new Map(via.params);
  let changed = false;
  const wantsRport = params.has('rport') && !params.get('rport');
  if (wantsRport) {
    params.set('rport', String(sourcePort));
    changed = true;
  }
  if (wantsRport || normalizeAddress(via.host) !== source) {
    if (params.get('received') !== source) {
      params.set('received', source);
      changed = true;
    }
  }
  if (changed) req.setTopVia({ ...via, params });
  return changed;
}
