import { PistonError } from '../lib/errors.js';

/**
 * Where a subscription is in its life, as the notifier sees it (RFC 6665 §4.1.2 for the watcher's view, §4.2 for
 * ours). `pending` and `active` are the Subscription-State values of RFC 6665 §4.1.3; `terminating` is ours: out of
 * the live set with its final NOTIFY (`terminated`) still to send or unanswered; `terminated` is the end.
 */
export const SubscriptionState = {
  /** Accepted, not yet authorized (RFC 6665 §4.2.1.1). A new subscription is authorized at once today; a fetch ends from here. */
  Pending: 'pending',
  /** In the live set: refreshed, expiring, notified on every change. */
  Active: 'active',
  /** Removed (unsubscribed, expired, fetched); its final NOTIFY waits behind the one out, or is out. */
  Terminating: 'terminating',
  /** Nothing more is sent: the final NOTIFY was answered, or the watcher is given up on (replaced, 481, unreachable). */
  Terminated: 'terminated',
} as const;
export type SubscriptionState = (typeof SubscriptionState)[keyof typeof SubscriptionState];

const ALLOWED: Record<SubscriptionState, readonly SubscriptionState[]> = {
  pending: ['active', 'terminating', 'terminated'],
  active: ['terminating', 'terminated'],
  terminating: ['terminated'],
  terminated: [],
};

/** Moves a subscription to `to`; an illegal move is a bug and throws, as the transactions' `transition` does. */
export function transition(sub: { id: string; state: SubscriptionState }, to: SubscriptionState): void {
  const from = sub.state;
  if (!ALLOWED[from].includes(to)) {
    throw new PistonError('subscription-state', `subscription ${sub.id} cannot go from ${from} to ${to}`);
  }
  sub.state = to;
}
