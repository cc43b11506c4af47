import { ownKeyOrder } from '../lib/own-key-order.js';
import type { ResourceDescription } from '../presentity/resource-description.js';
import type { SubscriptionRecord } from '../store/records.js';

/** Seconds from 0000-01-01 (proleptic Gregorian) to the Unix epoch: the platform's timestamps count from there. */
export const GREGORIAN_UNIX_OFFSET = 62167219200;

export function gregorianSeconds(msEpoch: number): number {
  return Math.floor(msEpoch / 1000) + GREGORIAN_UNIX_OFFSET;
}

/**
 * `from`: which phone watches, as support staff search for it. It is the watcher's From URI reduced to `user@host`:
 * no display name, scheme, port or parameters; the host lower-cased (case-insensitive, RFC 3261 §19.1.4); the user
 * part as sent (case-sensitive there). Not the account's realm: a phone configured with another domain
 * (`1001@127.0.0.1`, served by the default account) or a watcher from elsewhere would be shown at an address it never
 * used. For a phone configured on the realm it is the seed's `{SIP_USERNAME}@{ACCOUNT_REALM}`. Until digest
 * authentication identifies the device (then: its `sip.username@realm`), the From is all that names the phone.
 */
export function watcherAddress(rec: Pick<SubscriptionRecord, 'watcherUser' | 'watcherDomain'>): string {
  return `${rec.watcherUser}@${rec.watcherDomain}`;
}

/** One subscription as `GET …/presence` lists it (api-contract.md, every field from the live record). */
export function subscriptionView(rec: Readonly<SubscriptionRecord>): Record<string, unknown> {
  return {
    expires: rec.grantedExpires,
    from: watcherAddress(rec),
    notify: {
      body: rec.lastNotify?.body ?? 'undefined',
      reply: rec.lastNotify?.reply ?? 0,
      sequence: rec.lastNotify?.cseq ?? 0,
    },
    stalker: rec.node,
    timestamp: gregorianSeconds(rec.refreshedAt),
    version: rec.version,
  };
}

/**
 * The JSON text of one resource's entry in `GET …/presence` (`{event: {call_id: subscription}}`), in pieces of one
 * subscription each, so a writer can pause between them (a park slot may have thousands of watchers). Joined, the
 * pieces are exactly what JSON.stringify writes for the same object built key by key from `recs` in their order: keys
 * in JavaScript's own-key order, and of two subscriptions under one event and Call-ID (one Call-ID at two served
 * domains) the later. Each subscription is read from the live record when its piece is written, and its NOTIFY body
 * rendered only then.
 */
export function* resourceEntryPieces(recs: readonly Readonly<SubscriptionRecord>[]): Generator<string> {
  const byEvent = new Map<string, Map<string, Readonly<SubscriptionRecord>>>();
  for (const rec of recs) {
    let calls = byEvent.get(rec.event);
    if (!calls) byEvent.set(rec.event, (calls = new Map()));
    calls.set(rec.callId, rec);
  }
  let open = '{';
  for (const event of ownKeyOrder(byEvent.keys())) {
    const calls = byEvent.get(event)!;
    open += `${JSON.stringify(event)}:{`;
    for (const callId of ownKeyOrder(calls.keys())) {
      yield `${open}${JSON.stringify(callId)}:${JSON.stringify(subscriptionView(calls.get(callId)!))}`;
      open = ',';
    }
    open = '},';
  }
  yield open === '{' ? '{}' : '}}';
}

/** `GET …/presence/{EXTENSION}`: what support staff need to see why a lamp shows what it shows. */
export function resourceView(
  desc: ResourceDescription,
  watchers: readonly SubscriptionRecord[],
  nowMs: number,
): Record<string, unknown> {
  const byEvent: Record<string, Record<string, unknown>> = {};
  for (const rec of watchers) {
    (byEvent[rec.event] ??= {})[rec.callId] = {
      ...subscriptionView(rec),
      contact: rec.contact,
      expires_in: Math.max(0, Math.ceil((rec.expiresAt - nowMs) / 1000)),
      // Which transport its NOTIFYs take (a WebSocket watcher is reachable on its connection only).
      transport: rec.flow.protocol,
    };
  }
  return {
    mailbox:
      desc.mailbox === null
        ? null
        : {
            new_messages: desc.mailbox.newMessages,
            old_messages: desc.mailbox.oldMessages,
            urgent_new: desc.mailbox.urgentNew,
            urgent_old: desc.mailbox.urgentOld,
          },
    manual_state: desc.manualState,
    publications: desc.publications.map((p) => ({
      content_type: p.contentType,
      etag: p.etag,
      event: p.event,
      expires_in: Math.max(0, Math.ceil((p.expiresAt - nowMs) / 1000)),
      updated: gregorianSeconds(p.updatedAt),
    })),
    resource: desc.resource,
    watchers: byEvent,
  };
}
