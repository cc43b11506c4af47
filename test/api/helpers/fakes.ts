import type { PresenceControl, SubscriptionView } from '../../../src/api/api-deps.js';
import type { ManualState } from '../../../src/events/event-package.js';
import type { ResourceDescription } from '../../../src/presentity/resource-description.js';
import { domainsOfUser, splitResourceKey } from '../../../src/presentity/resource-key.js';
import type { SubscriptionRecord } from '../../../src/store/records.js';

export type PresenceCall = { op: 'reset'; resource: string } | { op: 'set'; resource: string; state: ManualState };

/**
 * Records what the API asked the presentity service to do; `describe` answers from what it was told, and a resource
 * described there counts as one with state (`domainsOf`).
 */
export class FakePresentity implements PresenceControl {
  readonly calls: PresenceCall[] = [];
  readonly descriptions = new Map<string, ResourceDescription>();

  reset(resource: string): void {
    this.calls.push({ op: 'reset', resource });
  }

  setManualState(resource: string, state: ManualState): void {
    this.calls.push({ op: 'set', resource, state });
  }

  describe(resource: string): ResourceDescription {
    return this.descriptions.get(resource) ?? { resource, manualState: null, publications: [], mailbox: null };
  }

  domainsOf(user: string): string[] {
    return domainsOfUser(this.descriptions.keys(), user.toLowerCase());
  }
}

/** Live subscriptions the test puts in. */
export class FakeNotifier implements SubscriptionView {
  subs: SubscriptionRecord[] = [];

  liveRecords(): readonly SubscriptionRecord[] {
    return [...this.subs];
  }

  watchersOf(resource: string): SubscriptionRecord[] {
    const { user, domain } = splitResourceKey(resource);
    return this.subs.filter((s) => s.resource === user && s.domain === domain);
  }

  watchedDomains(user: string): string[] {
    return [...new Set(this.subs.filter((s) => s.resource === user.toLowerCase()).map((s) => s.domain))];
  }
}
