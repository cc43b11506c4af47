/**
 * This node's heartbeat (cluster.md §6 `pp:hb:{node}`, `pp:nodes`): a beat every second with a 3 s TTL, so the others
 * see it gone within 3 s of its death and hide its subscriptions from the list (cluster-listing.ts); the janitor
 * removes them after a grace (directory-janitor.ts). A failed beat is logged once; beating goes on, and the first
 * beat that succeeds again calls `onRecovered`. `beatNow` beats at once: after a data loss or island mode the registry
 * lacks this node until its next beat, and the list hides its entries meanwhile.
 */
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { JsonValue } from '../../store/records.js';
import type { ClusterEngine } from '../engine-port.js';

/** cluster.md §6: a beat every second, alive for 3 s. */
export const HEARTBEAT_EVERY_MS = 1000;
export const HEARTBEAT_TTL_MS = 3000;

export interface NodeHeartbeatOptions {
  engine: ClusterEngine;
  node: string;
  clock: Clock;
  logger: Logger;
  /** What the node announces with each beat (its SIP and API addresses, its watched domains), shown by the registry. */
  info: JsonValue | (() => JsonValue);
  everyMs?: number;
  ttlMs?: number;
  /**
   * Called when a beat succeeds after failed ones: the engine is back, perhaps empty (a restart that lost its data),
   * and an idle node has no failed write to tell it. The node re-mirrors here (`SubscriptionMirror.remirror`).
   */
  onRecovered?: () => void;
}

export class NodeHeartbeat {
  private timer: TimerHandle | null = null;
  private stopped = true;
  private failing = false;
  private beats = 0;
  private readonly logger: Logger;
  private inFlight: Promise<void> | null = null;
  /** A beat waits for the one in flight: at most one, so the period never runs twice over. */
  private queued = false;

  constructor(private readonly opts: NodeHeartbeatOptions) {
    this.logger = opts.logger.child({ module: 'cluster-heartbeat' });
  }

  /** Beats now, then every `everyMs`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.next();
  }

  /**
   * Beats at once (after the beat in flight, which may have reached the engine before it lost its data), and times
   * the next one from this beat. For a node that saw a new epoch or left island mode.
   */
  beatNow(): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = null;
    this.next();
  }

  /** Stops beating (the beat lapses after its TTL: a clean stop looks like a death to the others, after the TTL). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.inFlight;
  }

  /** Whether the last beat reached the engine, and how many did. */
  status(): { ok: boolean; beats: number } {
    return { ok: !this.failing && this.beats > 0, beats: this.beats };
  }

  private tick(): void {
    if (this.stopped) return;
    const { engine, node, info, clock } = this.opts;
    this.inFlight = engine
      .heartbeat(node, typeof info === 'function' ? info() : info, this.opts.ttlMs ?? HEARTBEAT_TTL_MS, clock.now())
      .then(
        () => {
          this.beats++;
          const recovered = this.failing;
          this.failing = false;
          if (recovered) {
            this.logger.info({ node }, 'cluster heartbeat reaches the engine again');
            this.opts.onRecovered?.();
          }
        },
        (err: unknown) => {
          if (!this.failing) this.logger.warn({ node, err }, 'cluster heartbeat failed: the other nodes will take this node for dead');
          this.failing = true;
        },
      )
      .finally(() => {
        this.inFlight = null;
      });
    // The next beat is timed from this one's start, so a slow engine does not stretch the period.
    this.timer = clock.setTimer(this.opts.everyMs ?? HEARTBEAT_EVERY_MS, () => {
      this.timer = null;
      this.next();
    });
  }

  /** The next beat: now when none is in flight, else once it ends; never a second one waiting. */
  private next(): void {
    if (this.queued) return;
    const inFlight = this.inFlight;
    if (inFlight === null) {
      this.tick();
      return;
    }
    this.queued = true;
    void inFlight.then(() => {
      this.queued = false;
      this.tick();
    });
  }
}
