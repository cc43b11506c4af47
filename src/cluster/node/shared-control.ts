import type { MailboxCounts, ManualState } from '../../events/event-package.js';
import type { NodePresentity } from './node-context.js';
import type { Outbox } from './outbox.js';

/**
 * The admin API's manual state, reset and mailbox counts in cluster mode: applied here at once (this node's watchers
 * hear it as on a single node), then pushed to the engine through the outbox's merge and compare-and-set, so every
 * node NOTIFYs its own watchers; a reset goes out with `force`.
 */
export class SharedControl {
  constructor(
    private readonly presentity: NodePresentity,
    private readonly outbox: Outbox,
  ) {}

  setManualState(resource: string, state: ManualState): void {
    const before = this.presentity.exportResource(resource);
    this.presentity.setManualState(resource, state);
    this.outbox.add(resource, before);
  }

  reset(resource: string): void {
    const before = this.presentity.exportResource(resource);
    this.presentity.reset(resource);
    this.outbox.add(resource, before, true);
  }

  setMailbox(mailbox: string, counts: MailboxCounts | null): void {
    const before = this.presentity.exportResource(mailbox);
    this.presentity.setMailbox(mailbox, counts);
    this.outbox.add(mailbox, before);
  }
}
