import type { ResourceDoc } from '../engine-port.js';
import { mergeDocs, sameDoc } from './doc-merge.js';
import { stateOf } from './doc-state.js';
import type { NodeContext } from './node-context.js';

/** Commit attempts per push before it waits for the next flush. */
const PUSH_ATTEMPTS = 3;

interface Pending {
  /** What the engine held (as far as this node knew) before the first change that waits here. */
  base: ResourceDoc | null;
  /** Receivers NOTIFY even when the state looks unchanged (an admin reset). */
  force: boolean;
}

/**
 * Local changes not yet in the engine (cluster.md §8): those made in island mode, the admin API's set/reset and
 * mailbox counts, and a node's own state after the engine lost its data. One entry per resource, bounded: past
 * `limit` the oldest is dropped (its change stays local until the resource changes again) and counted. Each push
 * is a three-way merge (doc-merge.ts) with a fresh read, committed through the same compare-and-set as a PUBLISH.
 */
export class Outbox {
  private readonly pending = new Map<string, Pending>();
  private droppedCount = 0;

  constructor(
    private readonly ctx: NodeContext,
    private readonly limit: number,
  ) {}

  has(resource: string): boolean {
    return this.pending.has(resource);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Entries dropped because the outbox was full. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Remembers that `resource` changed here from `base`; pushes at once while the engine answers. */
  add(resource: string, base: ResourceDoc | null, force = false): void {
    const known = this.pending.get(resource);
    if (known) known.force ||= force;
    else {
      if (this.pending.size >= this.limit) {
        const oldest = this.pending.keys().next().value!;
        this.pending.delete(oldest);
        if (this.droppedCount++ === 0) this.ctx.logger.warn({ limit: this.limit }, 'cluster outbox full: the oldest changes stay local');
      }
      this.pending.set(resource, { base, force });
    }
    if (this.ctx.link.up) void this.push(resource);
  }

  /** Pushes everything waiting, one resource after another; stops when the engine fails again. */
  async flush(): Promise<void> {
    for (const resource of [...this.pending.keys()]) {
      if (!this.ctx.link.up) return;
      await this.push(resource);
    }
  }

  /** Pushes one resource in its lane; false when it still waits. */
  push(resource: string): Promise<boolean> {
    return this.ctx.lanes.run(resource, () => this.pushNow(resource)).catch((err: unknown) => {
      this.ctx.logger.error({ err: (err as Error).message, resource }, 'cluster push failed');
      return false;
    });
  }

  private async pushNow(resource: string): Promise<boolean> {
    const { engine, presentity, revs, link, clock, node } = this.ctx;
    for (let attempt = 0; attempt < PUSH_ATTEMPTS; attempt++) {
      const entry = this.pending.get(resource);
      if (!entry) return true;
      try {
        const theirs = await engine.getResource(resource);
        const ours = presentity.exportResource(resource);
        const merged = mergeDocs(entry.base, ours, theirs.doc, clock.now());
        let rev = theirs.rev;
        if (entry.force || !sameDoc(merged, theirs.doc)) {
          const result = await engine.commit({ resource, expectedRev: theirs.rev, doc: merged, state: stateOf(merged), origin: node, force: entry.force });
          if (!result.ok) continue;
          rev = result.rev;
        }
        link.succeeded();
        this.pending.delete(resource);
        revs.set(resource, rev);
        // What others changed meanwhile reaches this node's watchers now (a no-op when nothing differs).
        if (!sameDoc(merged, ours)) presentity.installResource(resource, merged);
        return true;
      } catch (err) {
        link.failed(err);
        return false;
      }
    }
    return false;
  }
}
