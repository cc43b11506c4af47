import { Feed, type FeedOptions } from '../lib/feed.js';
import type { SubscriptionRecord } from '../store/records.js';

/** Why a subscription went away (for logs and metrics). */
export type RemovalReason =
  /** SUBSCRIBE with Expires 0 in the dialog (RFC 6665 §4.2.1.4). */
  | 'unsubscribed'
  /** It was not refreshed in time (RFC 6665 §4.2.2: `reason=timeout`). */
  | 'expired'
  /** The same watcher subscribed again to the same resource and event in a new dialog (a rebooted phone). */
  | 'replaced'
  /** The watcher answered a NOTIFY 481 (RFC 6665 §4.2.2). */
  | 'gone'
  /** NOTIFYs timed out: three strikes over UDP, one over TCP. */
  | 'unreachable'
  /** Any other final failure response to a NOTIFY. */
  | 'rejected'
  /** Its connection closed and it can be reached on no other (a WebSocket's, RFC 7118). */
  | 'disconnected';

/** How a NOTIFY failed. A number is the watcher's final status code. */
export type NotifyFailure = 'timeout' | 'transport-error' | number;

/** What the watcher answered a NOTIFY with: a 2xx status, or how it failed. */
export type NotifyAnswer = { ok: true; status: number } | { ok: false; failure: NotifyFailure };

/**
 * A subscription is the notifier's live record, not a copy (a copy per NOTIFY would cost the SIP path): an observer
 * reading it later sees its fields as they are then. Its identity (id, event, resource, domain, watcher) never
 * changes; what the event is about is in the event's own fields. Read it, never change or keep it.
 */
type Live = Readonly<SubscriptionRecord>;

/** Who sent a PUBLISH, as support staff trace it (operator-ux.md, history). */
export interface Publisher {
  /** `ip:port` the request came from. */
  source: string;
  transport: string;
  /** The From URI as text. */
  from: string;
  /** The User-Agent header, or null. */
  userAgent: string | null;
  callId: string;
}

/** Who commanded a manual set or reset through the admin API. */
export interface ManualActor {
  accountId: string;
  /** Null for a token from an API key. */
  userId: string | null;
  method: string;
  requestId: string;
}

/** Everything the presence stack tells its listeners. */
export type PresenceEvent =
  /** A resource's state changed for these packages (or was reset: `force`); watchers get a NOTIFY (notifier-contract.md). */
  | {
      kind: 'resource-changed';
      resource: string;
      events: readonly string[];
      force: boolean;
      /** The packages' aggregated states after the change, one per entry of `events` (ResourceState): read, never change. */
      states?: readonly unknown[];
    }
  /** A new subscription was accepted (RFC 6665 §4.2.1.2); not sent for the ones restored at start. */
  | { kind: 'subscription-created'; subscription: Live }
  /** A subscription was refreshed in its dialog (RFC 6665 §4.2.1.2). */
  | { kind: 'subscription-refreshed'; subscription: Live }
  /** A NOTIFY left; `final` when it carried `Subscription-State: terminated`; its CSeq and RFC 4235 version. */
  | { kind: 'notify-sent'; subscription: Live; final: boolean; cseq: number; version: number }
  /** The NOTIFY transaction (of CSeq `cseq`) ended with this answer. */
  | { kind: 'notify-answered'; subscription: Live; answer: NotifyAnswer; cseq: number }
  /**
   * A PUBLISH was accepted (RFC 3903 §6), before its change is announced. `document` is the package's parsed body
   * (for a refresh or removal, the publication's): read it, never change it.
   */
  | {
      kind: 'publication';
      resource: string;
      event: string;
      action: 'new' | 'refresh' | 'modify' | 'remove';
      etag: string;
      expires: number;
      publisher: Publisher;
      document: unknown;
    }
  /** A publication was not refreshed in time and went (RFC 3903 §6), before its change is announced. */
  | { kind: 'publication-expired'; resource: string; event: string; etag: string }
  /** The admin API is about to set or reset a resource's manual state (api-contract.md), and who asked. */
  | { kind: 'manual'; resource: string; action: 'set' | 'reset'; state: string | null; by: ManualActor | null }
  /** A subscription left the live set. */
  | { kind: 'subscription-removed'; subscription: Live; reason: RemovalReason };

export type PresenceEventKind = PresenceEvent['kind'];

/** The one hub of resource changes and subscription events (lib/feed.ts says how listeners are served). */
export type PresenceFeed = Feed<PresenceEvent>;

export function createPresenceFeed(opts: FeedOptions): PresenceFeed {
  return new Feed<PresenceEvent>(opts);
}
