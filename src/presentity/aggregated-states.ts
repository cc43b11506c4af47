import type { EventPackageRegistry, ResourceState } from '../events/event-package.js';
import type { Clock } from '../lib/clock.js';
import { jsonEqual } from '../lib/json-equal.js';
import type { ResourceBook } from './resource-book.js';
import type { ResourceKey } from './resource-key.js';

/** Idle (resource, event) states kept at most; the oldest go first. */
export const IDLE_STATE_LIMIT = 16_384;

/**
 * Aggregated states per (resource, event), computed by the registry from the book and cached until the resource
 * changes. Resources with live state are always cached; idle ones in a bounded map: with 100k subscriptions most
 * watched resources are idle, and every watcher of one must get the same state object, so that the packages' render
 * caches (which match a state by identity) serve the whole fan-out and the notifier can keep a reference instead of a
 * body.
 */
export class AggregatedStates {
  private readonly cache = new Map<ResourceKey, Map<string, ResourceState>>();
  private readonly idle = new Map<string, ResourceState>();

  constructor(
    private readonly book: ResourceBook,
    private readonly registry: EventPackageRegistry,
    private readonly clock: Clock,
  ) {}

  get(resource: ResourceKey, event: string): ResourceState {
    const hit = this.cache.get(resource)?.get(event);
    if (hit) return hit;
    const live = this.book.hasLiveState(resource);
    const key = idleKey(event, resource);
    if (!live) {
      const idle = this.idle.get(key);
      if (idle) return idle;
    }
    const fresh = this.compute(resource, event);
    if (live) this.remember(resource, event, fresh);
    else this.rememberIdle(key, fresh);
    return fresh;
  }

  /** The current states of `events`, to compare with after a change (states are immutable once computed). */
  snapshot(resource: ResourceKey, events: readonly string[]): Map<string, ResourceState> {
    const out = new Map<string, ResourceState>();
    const live = this.cache.get(resource);
    // An idle resource's states are usually cached already: its watchers' NOTIFYs were rendered from them.
    const idle = live === undefined && !this.book.hasLiveState(resource);
    for (const event of events) {
      const hit = idle ? this.idle.get(idleKey(event, resource)) : live?.get(event);
      out.set(event, hit ?? this.compute(resource, event));
    }
    return out;
  }

  /**
   * Recomputes `events` after the book changed and caches the results (or forgets the resource when nothing is
   * left). Returns the events whose state differs from `before` in what it would serialise to (states are JSON-able),
   * so equal content means nothing a watcher sees has changed; every event when there is no `before`.
   */
  refresh(resource: ResourceKey, events: readonly string[], before?: ReadonlyMap<string, ResourceState>): string[] {
    const live = this.book.hasLiveState(resource);
    if (!live) this.cache.delete(resource);
    else this.cache.get(resource)?.clear();
    this.forgetIdle(resource);
    const changed: string[] = [];
    for (const event of events) {
      const fresh = this.compute(resource, event);
      // Kept either way: the watchers' NOTIFYs render this state next, and the next change compares against it.
      if (live) this.remember(resource, event, fresh);
      else this.rememberIdle(idleKey(event, resource), fresh);
      if (!before || !jsonEqual(before.get(event), fresh)) changed.push(event);
    }
    return changed;
  }

  forget(resource: ResourceKey): void {
    this.cache.delete(resource);
    this.forgetIdle(resource);
  }

  clear(): void {
    this.cache.clear();
    this.idle.clear();
  }

  /** Number of cached (resource, event) states, for tests and metrics. */
  get size(): number {
    let n = 0;
    for (const m of this.cache.values()) n += m.size;
    return n;
  }

  private rememberIdle(key: string, value: ResourceState): void {
    if (this.idle.size >= IDLE_STATE_LIMIT) this.idle.delete(this.idle.keys().next().value!);
    this.idle.set(key, value);
  }

  private forgetIdle(resource: ResourceKey): void {
    if (this.idle.size === 0) return;
    for (const event of this.registry.names()) this.idle.delete(idleKey(event, resource));
  }

  private compute(resource: ResourceKey, event: string): ResourceState {
    return this.registry.aggregate(event, this.book.aggregateInput(resource, this.clock.now()));
  }

  private remember(resource: ResourceKey, event: string, value: ResourceState): void {
    let byEvent = this.cache.get(resource);
    if (!byEvent) {
      byEvent = new Map();
      this.cache.set(resource, byEvent);
    }
    byEvent.set(event, value);
  }
}

/** The idle map's key for one (event, resource) state. */
function idleKey(event: string, resource: ResourceKey): string {
  return `${event} ${resource}`;
}
