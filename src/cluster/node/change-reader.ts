import type { ChangeCursor, ChangeEntry } from '../engine-port.js';
import { docOfState } from './doc-state.js';
import type { NodeContext } from './node-context.js';
import type { Replica } from './replica.js';
import { pause } from './ticker.js';

/** Entries per read, and how long a read waits for one (the engine cuts longer waits). */
const READ_COUNT = 256;
const READ_BLOCK_MS = 1000;
/** Pause after a failed read before the next attempt (island mode). */
const RETRY_MS = 500;

/**
 * What became of the stream entries this node read, counted (the `piston_cluster_changes_total` metric): an entry a
 * node never acted on is then told apart from a NOTIFY lost on the wire. `applied`: installed into the node's copy
 * (its watchers hear of it); `refreshed`: no state in the entry, a fresh read instead; `own`: this node's commit;
 * `outbox`: the resource's local changes wait in the outbox; `unwatched`: no watcher here, the copy only forgotten;
 * `older`: not newer than the node's copy; `waited`: held back behind a busy lane first (counted again when it ends);
 * `gaps`: reads that found entries lost.
 */
export interface ChangeCounts {
  applied: number;
  refreshed: number;
  own: number;
  outbox: number;
  unwatched: number;
  older: number;
  waited: number;
  gaps: number;
}

export interface ChangeReaderHooks {
  /**
   * A gap: entries were lost (trimmed, or the engine lost its data), or the first cursor was read only after an island
   * start. Resolves once handled (a resync from snapshots).
   */
  onGap(): Promise<void>;
  /** The resource's local changes wait in the outbox: entries for it are not applied. */
  skip(resource: string): boolean;
  /**
   * Whether this node keeps a copy of the resource up to date (it has watchers of it). Entries of others only make
   * the node's copy stale: its rev is forgotten, so a later PUBLISH or SUBSCRIBE here reads a snapshot first.
   */
  wanted(resource: string): boolean;
}

/**
 * The node's one reader of the change stream (cluster.md §7): blocking reads from its cursor; each entry from
 * another node for a resource watched here replaces this node's copy when its rev is newer, through the presentity service, so
 * the notifier NOTIFYs this node's watchers, once each. Entries for a resource whose lane is busy (a PUBLISH or a
 * push in flight here) wait for it to end. The node's own entries are skipped: it installed those when it committed.
 */
export class ChangeReader {
  private cursor: ChangeCursor | undefined;
  /** The first cursor could not be read (an island start): changes before it are read by a resync once it is. */
  private cursorLate = false;
  private running = false;
  readonly counts: ChangeCounts = { applied: 0, refreshed: 0, own: 0, outbox: 0, unwatched: 0, older: 0, waited: 0, gaps: 0 };
  private loopDone: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: NodeContext,
    private readonly replica: Replica,
    private readonly hooks: ChangeReaderHooks,
  ) {}

  /** Starts reading from the stream's end (the node's state is brought up to date by snapshots, not by history). */
  start(): void {
    this.running = true;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    const { engine, link, clock } = this.ctx;
    while (this.running) {
      try {
        if (!this.cursor) {
          this.cursor = await engine.latestCursor();
          link.succeeded();
          // Started as an island: the return's resync may have read before this cursor, so a change committed in
          // between would reach neither; one more resync, after the cursor, closes that window.
          if (this.cursorLate) await this.hooks.onGap();
          this.cursorLate = false;
          continue;
        }
        const batch = await engine.readChanges(this.cursor, READ_COUNT, READ_BLOCK_MS);
        if (!this.running) return;
        link.succeeded();
        this.cursor = batch.cursor;
        if (batch.gap) {
          this.counts.gaps++;
          this.ctx.logger.warn({ rev: batch.cursor.rev }, 'cluster change stream gap: resyncing');
          await this.hooks.onGap();
        }
        for (const e of batch.entries) this.apply(e);
      } catch (err) {
        if (!this.running) return;
        if (!this.cursor) this.cursorLate = true;
        link.failed(err);
        await pause(clock, RETRY_MS);
      }
    }
  }

  private apply(e: ChangeEntry): void {
    const { lanes, revs, presentity, node } = this.ctx;
    const counts = this.counts;
    if (e.origin === node) {
      counts.own++;
      return;
    }
    if (this.hooks.skip(e.resource)) {
      counts.outbox++;
      return;
    }
    if (!this.hooks.wanted(e.resource)) {
      counts.unwatched++;
      if (!lanes.busy(e.resource)) revs.delete(e.resource);
      return;
    }
    if (lanes.busy(e.resource)) {
      counts.waited++;
      lanes.whenIdle(e.resource, () => this.apply(e));
      return;
    }
    if (e.rev <= (revs.get(e.resource) ?? 0)) {
      counts.older++;
      return;
    }
    const doc = docOfState(e.state, e.deleted);
    if (doc === undefined) {
      counts.refreshed++;
      void this.replica.refreshInLane(e.resource);
      return;
    }
    presentity.installResource(e.resource, doc, e.force);
    revs.set(e.resource, e.rev);
    counts.applied++;
  }
}
