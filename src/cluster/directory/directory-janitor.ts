/**
 * Removes a dead node's directory entries (cluster.md §8 "A node dies"): a node whose heartbeat lapsed more than
 * `graceMs` (30 s, PISTON_CLUSTER_JANITOR_GRACE_S) ago loses its entries, then its registry entry. It never NOTIFYs
 * (the dialogs were that node's, cluster.md §3 row 3), and the list hides the dead node's entries from the moment its
 * beat lapses (cluster-listing.ts), so the grace only bounds the directory's size. Every node runs it; removals are
 * idempotent. Entries written more than a heartbeat TTL after the node's last beat are spared: a live node beats every
 * second, so they come from a restart under the same name that re-mirrored before its first beat was seen.
 */
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { ClusterEngine } from '../engine-port.js';
import { mirroredAtOf } from './directory-record.js';
import { HEARTBEAT_TTL_MS } from './node-heartbeat.js';

export const JANITOR_GRACE_MS = 30_000;
export const JANITOR_EVERY_MS = 5_000;

export interface DirectoryJanitorOptions {
  engine: ClusterEngine;
  /** This node: never swept by itself. */
  node: string;
  clock: Clock;
  logger: Logger;
  graceMs?: number;
  everyMs?: number;
  /** The nodes' heartbeat TTL (default HEARTBEAT_TTL_MS): entries written later than that after the last beat are spared. */
  beatTtlMs?: number;
}

export interface SweepResult {
  /** Nodes forgotten in this sweep. */
  forgotten: string[];
  /** Directory entries removed. */
  removed: number;
}

export class DirectoryJanitor {
  private timer: TimerHandle | null = null;
  private stopped = true;
  private running: Promise<unknown> | null = null;
  private readonly logger: Logger;

  constructor(private readonly opts: DirectoryJanitorOptions) {
    this.logger = opts.logger.child({ module: 'cluster-janitor' });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.plan();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.running;
  }

  /** One sweep now. Throws when the engine fails (the periodic runs log it and try again later). */
  async sweep(): Promise<SweepResult> {
    const { engine, clock } = this.opts;
    const grace = this.opts.graceMs ?? JANITOR_GRACE_MS;
    const result: SweepResult = { forgotten: [], removed: 0 };
    for (const status of await engine.nodes()) {
      const now = clock.now();
      if (status.node === this.opts.node || status.alive || now - status.lastSeen < grace) continue;
      const entries = await engine.listNode(status.node, now);
      const diedBy = status.lastSeen + (this.opts.beatTtlMs ?? HEARTBEAT_TTL_MS);
      const written = entries.filter((e) => mirroredAtOf(e) <= diedBy);
      await Promise.all(written.map((e) => engine.removeSubscription(e.id, e.domain, e.node)));
      result.removed += written.length;
      // A node that wrote entries since (a restart) is not forgotten: its next beat makes it alive again.
      if (written.length === entries.length) {
        await engine.forgetNode(status.node);
        result.forgotten.push(status.node);
      }
      this.logger.info({ node: status.node, lastSeen: status.lastSeen, removed: written.length }, 'cluster janitor swept a dead node');
    }
    return result;
  }

  private plan(): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimer(this.opts.everyMs ?? JANITOR_EVERY_MS, () => {
      this.timer = null;
      this.running = this.sweep()
        .catch((err: unknown) => this.logger.debug({ err }, 'cluster janitor sweep failed; next one later'))
        .finally(() => {
          this.running = null;
          this.plan();
        });
    });
  }
}
