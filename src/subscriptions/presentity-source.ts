import type { ResourceState } from '../events/event-package.js';
import type { ResourceKey } from '../presentity/resource-key.js';

/**
 * What the notifier needs from the presentity service (notifier-contract.md): the aggregated state of a resource for
 * one package, and change announcements. `PresentityService` satisfies it; tests pass a small fake.
 */
export interface PresentityChange {
  resource: ResourceKey;
  /** Packages whose state may have changed. */
  events: readonly string[];
  /** Every watcher gets a full-state NOTIFY even if the aggregated state looks unchanged (reset). */
  force: boolean;
}

export interface PresentitySource {
  state(resource: ResourceKey, event: string): ResourceState;
  /** Hears every change synchronously (the notifier's NOTIFYs leave in the same turn); returns its unsubscribe. */
  onChange(listener: (change: PresentityChange) => void): () => void;
}
