import type { PresenceFeed } from '../feed/presence-feed.js';
import type { AggregatedStates } from './aggregated-states.js';
import type { ResourceKey } from './resource-key.js';

/** Tells the listeners what a tracked change did; a no-op when no package's state changed. */
export type Announcement = () => void;

export const NOTHING_TO_ANNOUNCE: Announcement = () => {};

/**
 * Runs one change to a resource and works out which packages' aggregated states it really changed, so watchers get a
 * NOTIFY only when what they see differs (RFC 6665 §4.2.2: notify on a change of state). The announcement is
 * returned rather than sent, so a PUBLISH is answered before its NOTIFYs are queued. Announcements go out on the feed
 * (feed/presence-feed.ts), where the notifier hears them synchronously and observers later.
 */
export class ChangeAnnouncer {
  constructor(
    private readonly states: AggregatedStates,
    private readonly feed: Pick<PresenceFeed, 'emit'>,
  ) {}

  /**
   * Applies `mutate` (synchronously: nothing may interleave, so changes to a resource apply in arrival order) and
   * compares the states of `events` before and after. With `force`, every event is announced whatever the states.
   */
  track(resource: ResourceKey, events: readonly string[], mutate: () => void, force = false): Announcement {
    const before = force ? undefined : this.states.snapshot(resource, events);
    mutate();
    const changed = this.states.refresh(resource, events, before);
    if (changed.length === 0) return NOTHING_TO_ANNOUNCE;
    // The states as they are now (cached by the refresh above): an observer that runs later must not read newer ones.
    return () => this.feed.emit({ kind: 'resource-changed', resource, events: changed, force, states: changed.map((e) => this.states.get(resource, e)) });
  }
}
