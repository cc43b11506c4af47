import type { ResourceState } from '../events/event-package.js';
import type { PresenceFeed } from '../feed/presence-feed.js';
import type { PresenceHistory } from '../history/presence-history.js';
import type { StreamLimits } from './stream-limits.js';

/**
 * What the operator routes (history, explanation, live stream; docs/operator-api.md) need beyond the presence
 * routes: the history, the feed, and two reads of the presentity service (which `PresentityService` satisfies
 * through `operatorDepsOf` in main.ts).
 */
export interface OperatorDeps {
  history: PresenceHistory;
  feed: PresenceFeed;
  /** Aggregated state of a resource for a package (PresentityService.state). */
  state(resource: string, event: string): ResourceState;
  /** The manual state of a resource, or null. */
  manualState(resource: string): string | null;
  /** Every resource with published, manual or mailbox state (PresentityService.resources). */
  resources(): Iterable<string>;
  streamLimits?: Partial<StreamLimits>;
}

/** The presentity reads the operator routes use; `PresentityService` has them. */
export interface OperatorPresentity {
  state(resource: string, event: string): ResourceState;
  /** The manual state alone (read for every lamp the live stream sends: `describe` would build a publication list). */
  manualStateOf(resource: string): string | null;
  resources(): Iterable<string>;
}

/** The operator routes' dependencies over a presentity service, a feed and a history. */
export function operatorDeps(
  presentity: OperatorPresentity,
  feed: PresenceFeed,
  history: PresenceHistory,
  streamLimits?: Partial<StreamLimits>,
): OperatorDeps {
  return {
    history,
    feed,
    state: (resource, event) => presentity.state(resource, event),
    manualState: (resource) => presentity.manualStateOf(resource),
    resources: () => presentity.resources(),
    ...(streamLimits ? { streamLimits } : {}),
  };
}
