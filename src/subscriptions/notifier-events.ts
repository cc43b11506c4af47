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
  | 'rejected';

/** How a NOTIFY failed. A number is the watcher's final status code. */
export type NotifyFailure = 'timeout' | 'transport-error' | number;

/**
 * Optional hooks for metrics (counters and gauges). Called synchronously; they must not throw and must not call back
 * into the notifier. Records passed are the live ones: read them, do not keep or change them.
 */
export interface NotifierEvents {
  subscriptionAdded?(rec: Readonly<SubscriptionRecord>): void;
  subscriptionRemoved?(rec: Readonly<SubscriptionRecord>, reason: RemovalReason): void;
  /** A NOTIFY left; `final` when it carried `Subscription-State: terminated`. */
  notifySent?(rec: Readonly<SubscriptionRecord>, final: boolean): void;
  /** The watcher answered a NOTIFY with a 2xx. */
  notifyAnswered?(rec: Readonly<SubscriptionRecord>, status: number): void;
  notifyFailed?(rec: Readonly<SubscriptionRecord>, failure: NotifyFailure): void;
}
