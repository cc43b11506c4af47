import type { ResourceSnapshot } from '../engine-port.js';
import type { NodeContext } from './node-context.js';

/**
 * This node's copy of shared presentity state: snapshots and stream entries are installed into the presentity
 * service (which announces what watchers see differently, so the notifier NOTIFYs this node's watchers only) when
 * they are newer than what the node holds. `skip` names resources whose local changes wait in the outbox: the
 * outbox merges them with a fresh read, so nothing older may overwrite them meanwhile.
 */
export class Replica {
  constructor(
    private readonly ctx: NodeContext,
    private readonly skip: (resource: string) => boolean,
  ) {}

  /** A fresh read of one resource, installed when newer; throws (after telling the link) when the engine fails. */
  async refresh(resource: string): Promise<void> {
    let snap: ResourceSnapshot;
    try {
      snap = await this.ctx.engine.getResource(resource);
    } catch (err) {
      this.ctx.link.failed(err);
      throw err;
    }
    this.ctx.link.succeeded();
    this.install(snap);
  }

  /** `refresh` in the resource's lane, errors logged: for background resyncs. */
  refreshInLane(resource: string): Promise<void> {
    return this.ctx.lanes.run(resource, () => this.refresh(resource)).catch(() => undefined);
  }

  install(snap: ResourceSnapshot): void {
    const { revs, presentity } = this.ctx;
    if (this.skip(snap.resource)) return;
    const cached = revs.get(snap.resource);
    if (cached !== undefined && snap.rev <= cached) return;
    presentity.installResource(snap.resource, snap.doc);
    revs.set(snap.resource, snap.rev);
  }
}
