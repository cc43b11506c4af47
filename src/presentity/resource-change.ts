import type { ResourceKey } from './resource-key.js';

/** What the presentity service announces after a resource changed (notifier-contract.md). */
export interface ResourceChange {
  resource: ResourceKey;
  /** Packages whose state may have changed (registry.affectedBy of what changed; all packages on reset). */
  events: readonly string[];
  /** True for reset: every watcher gets a full-state NOTIFY even if the aggregated state looks unchanged. */
  force: boolean;
}

export type ResourceChangeListener = (change: ResourceChange) => void;
