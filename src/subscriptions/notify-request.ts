import { newBranch } from '../lib/ids.js';
import type { DialogState } from '../sip/dialog/dialog-state.js';
import { createInDialogRequest } from '../sip/dialog/in-dialog-request.js';
import type { SipRequest } from '../sip/message/message.js';
import type { TransportDescriptor } from '../sip/transport/transport-descriptor.js';

export interface NotifyParts {
  /** The subscription's dialog, with `localCseq` already set to this NOTIFY's CSeq. */
  dialog: DialogState;
  event: string;
  eventId: string | null;
  /** Full `Subscription-State` value. */
  subscriptionState: string;
  contentType: string;
  body: Buffer;
  /** Our Contact URI. */
  contact: string;
  /** The transport the NOTIFY leaves on: its Via names it. */
  transport: TransportDescriptor;
  /** Our Via sent-by, `host:port`. */
  sentBy: string;
}

/**
 * A NOTIFY in the subscription's dialog (RFC 6665 §4.2.1.2, §8.2): Event as subscribed, with its `id` (§8.2.1), the
 * Subscription-State, our Contact (§4.2.1.2: NOTIFY is a target refresh request), the body with its exact
 * Content-Type. Our own Via with a fresh branch (RFC 3261 §8.1.1.7) and `rport` (RFC 3581), since we know the flow.
 */
export function buildNotify(p: NotifyParts): SipRequest {
  const event = p.eventId === null ? p.event : `${p.event};id=${p.eventId}`;
  return createInDialogRequest(p.dialog, 'NOTIFY', {
    via: `SIP/2.0/${p.transport.viaToken} ${p.sentBy};branch=${newBranch()};rport`,
    contact: p.contact,
    headers: [
      ['Event', event],
      ['Subscription-State', p.subscriptionState],
    ],
    contentType: p.contentType,
    body: p.body,
  });
}

/** `active;expires=N` while the subscription lasts, `terminated[;reason=R]` at its end (RFC 6665 §4.1.3, §8.2.3). */
export function subscriptionStateValue(final: boolean, reason: string | undefined, remainingSeconds: number): string {
  if (!final) return `active;expires=${remainingSeconds}`;
  return reason === undefined ? 'terminated' : `terminated;reason=${reason}`;
}
