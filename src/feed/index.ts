// The feed: one hub of resource changes and subscription events, for the notifier, metrics, live views and the cluster.
export { createPresenceFeed, type NotifyAnswer, type NotifyFailure, type PresenceEvent, type PresenceEventKind, type ManualActor, type PresenceFeed, type Publisher, type RemovalReason } from './presence-feed.js';
export type { CoreListener, Observer, ObserverOptions, Unsubscribe } from '../lib/feed.js';
