/**
 * A stand-in for PresentityService (notifier-contract.md) with the same public methods the notifier and tests use,
 * over in-memory maps: manual state and mailbox counts per resource, aggregated by the real event packages, and
 * change announcements to the notifier. PUBLISH is out of its scope.
 */
import type { EventPackageRegistry, MailboxCounts, ManualState, ResourceState } from '../../../src/events/event-package.js';
import type { Clock } from '../../../src/lib/clock.js';
import { entityOf, type ResourceKey } from '../../../src/presentity/resource-key.js';
import type { PresentityChange, PresentitySource } from '../../../src/subscriptions/presentity-source.js';

export class FakePresentity implements PresentitySource {
  private readonly manual = new Map<ResourceKey, ManualState>();
  private readonly mailboxes = new Map<ResourceKey, MailboxCounts>();
  private readonly listeners: ((change: PresentityChange) => void)[] = [];
  /** How many times `state` was asked, for tests that care about work done. */
  stateCalls = 0;

  constructor(
    private readonly registry: EventPackageRegistry,
    private readonly clock: Clock,
  ) {}

  restore(): void {}

  onChange(listener: (change: PresentityChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  state(resource: ResourceKey, event: string): ResourceState {
    this.stateCalls++;
    return this.registry.aggregate(event, {
      entity: entityOf(resource),
      now: this.clock.now(),
      publications: {},
      manualState: this.manual.get(resource),
      mailbox: this.mailboxes.get(resource),
    });
  }

  setManualState(resource: ResourceKey, state: ManualState): void {
    this.manual.set(resource, state);
    this.announce({ resource, events: this.registry.affectedBy('dialog'), force: false });
  }

  reset(resource: ResourceKey): void {
    this.manual.delete(resource);
    this.announce({ resource, events: this.registry.names(), force: true });
  }

  setMailbox(mailbox: ResourceKey, counts: MailboxCounts | null): void {
    if (counts) this.mailboxes.set(mailbox, counts);
    else this.mailboxes.delete(mailbox);
    this.announce({ resource: mailbox, events: this.registry.affectedBy('message-summary'), force: false });
  }

  /** Announces a change without changing anything (a PUBLISH refresh, say). */
  announce(change: PresentityChange): void {
    for (const l of this.listeners) l(change);
  }

  dispose(): void {}
}
