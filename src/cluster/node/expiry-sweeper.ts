import { isEmptyDoc } from './doc-merge.js';
import { stateOf } from './doc-state.js';
import type { NodeContext } from './node-context.js';
import { Ticker } from './ticker.js';

/** How often, and how many due expiries per look (cluster.md §7). */
export const SWEEP_INTERVAL_MS = 1000;
const SWEEP_LIMIT = 100;

/**
 * Publication expiry, once for the cluster (cluster.md §7): every node looks at the expiry index each second and
 * commits the removal of what is due under compare-and-set; a second sweeper finds the index already cleaned and
 * commits nothing. Watchers hear of an expiry from their own node's timer (the presentity service expires its copy
 * on time, also in island mode); the sweep's entry then changes nothing they see, so each gets one NOTIFY.
 */
export class ExpirySweeper {
  private readonly ticker: Ticker;

  constructor(
    private readonly ctx: NodeContext,
    private readonly skip: (resource: string) => boolean,
  ) {
    this.ticker = new Ticker(ctx.clock, SWEEP_INTERVAL_MS, () => this.sweep());
  }

  start(): void {
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
  }

  /** One look at the index; resolves when its removals are committed (or lost to another node). */
  async sweep(): Promise<void> {
    const { engine, link, clock, lanes } = this.ctx;
    if (!link.up) return;
    let due;
    try {
      due = await engine.dueExpiries(clock.now(), SWEEP_LIMIT);
    } catch (err) {
      link.failed(err);
      return;
    }
    const resources = [...new Set(due.map((d) => d.resource))];
    await Promise.all(resources.map((r) => lanes.run(r, () => this.remove(r)).catch(() => undefined)));
  }

  private async remove(resource: string): Promise<void> {
    const { engine, clock, revs, presentity, node } = this.ctx;
    const snap = await engine.getResource(resource);
    if (!snap.doc) return;
    const now = clock.now();
    const live = snap.doc.publications.filter((p) => p.expiresAt > now);
    if (live.length === snap.doc.publications.length) return;
    const next = { ...snap.doc, publications: live };
    const doc = isEmptyDoc(next) ? null : next;
    const result = await engine.commit({ resource, expectedRev: snap.rev, doc, state: stateOf(doc), origin: node, force: false });
    if (!result.ok) return; // another sweeper, or a change, got there first
    this.ctx.logger.debug({ resource, expired: snap.doc.publications.length - live.length }, 'publications expired cluster-wide');
    if (this.skip(resource)) return;
    revs.set(resource, result.rev);
    presentity.installResource(resource, doc);
  }
}
