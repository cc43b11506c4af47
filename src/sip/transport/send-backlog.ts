import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Flow } from './flow.js';

/**
 * More room for a trusted peer's unsent bytes (security.md §4.2). A phone that stops reading and a proxy or trunk
 * that reads as fast as it can but carries every watcher's 200s and NOTIFYs both leave bytes unsent; what tells them
 * apart is whether the bytes drain. A phone gets a few KB a minute, so the common limit (PISTON_SIP_MAX_BUFFERED_BYTES)
 * stays a hard one for it; a trusted peer may queue up to `bytes` as long as it keeps taking some within `stallMs`.
 */
export interface PeerSendAllowance {
  /** Unsent bytes a trusted peer may hold while it drains (never passed, drain or not: memory stays bounded). */
  readonly bytes: number;
  /** Over the common limit, a peer that took nothing for this long is dropped. */
  readonly stallMs: number;
  /** Whether the connection's peer is trusted; asked once per connection, when its backlog first passes the common limit. */
  readonly trusted: (flow: Flow) => boolean;
}

export interface BacklogLimits {
  /** Up to this, always fine. */
  readonly softBytes: number;
  /** Above this, dropped whatever the drain. */
  readonly hardBytes: number;
  /** Between the two: dropped once nothing was taken for this long. */
  readonly stallMs: number;
}

export type BacklogVerdict = 'ok' | 'over-limit' | 'stalled';

/**
 * The rule: `queued` unsent bytes, of which the peer took none for `stalledMs` (counted from when the backlog passed
 * `softBytes`, or from the last bytes taken since).
 */
export function judgeBacklog(queued: number, stalledMs: number, limits: BacklogLimits): BacklogVerdict {
  if (queued <= limits.softBytes) return 'ok';
  if (queued > limits.hardBytes) return 'over-limit';
  return stalledMs >= limits.stallMs ? 'stalled' : 'ok';
}

export interface SendBacklogOptions {
  /** The common limit (PISTON_SIP_MAX_BUFFERED_BYTES). */
  softBytes: number;
  /** Absent: the common limit is a hard one for every peer. */
  allowance?: PeerSendAllowance | undefined;
  flow: Flow;
  clock: Clock;
  /** Unsent bytes now (socket.writableLength, ws bufferedAmount). */
  queued: () => number;
  /** A peer over the common limit took nothing for the stall time, found by the timer (no write needed). */
  onStall: (why: string) => void;
}

/**
 * One connection's backlog: `check` before each write, `taken` from each write's callback (the bytes reached the
 * kernel, which takes more only as the peer reads). Nothing is timed while the backlog is under the common limit.
 */
export class SendBacklog {
  private readonly o: SendBacklogOptions;
  /** When the backlog last passed the common limit; undefined while under it. */
  private overSince: number | undefined;
  private lastTaken = 0;
  private trusted: boolean | undefined;
  private timer: TimerHandle | undefined;

  constructor(o: SendBacklogOptions) {
    this.o = o;
  }

  /** Before queueing `bytes` more: undefined to go on, else why the peer is to be dropped. */
  check(bytes: number): string | undefined {
    const queued = this.o.queued() + bytes;
    if (queued <= this.o.softBytes) return undefined;
    const now = this.o.clock.now();
    if (this.overSince === undefined) this.overSince = now;
    const limits = this.limits();
    const verdict = judgeBacklog(queued, now - Math.max(this.overSince, this.lastTaken), limits);
    if (verdict === 'ok') {
      this.armTimer(limits.stallMs);
      return undefined;
    }
    return verdict === 'over-limit'
      ? `send buffer limit exceeded: ${queued} bytes unsent (limit ${limits.hardBytes}${this.trusted ? ', trusted peer' : ''})`
      : this.stallReason(queued, now);
  }

  /** A write's callback ran: the peer is reading. */
  taken(): void {
    if (this.overSince === undefined) return;
    this.lastTaken = this.o.clock.now();
    if (this.o.queued() <= this.o.softBytes) this.clear();
  }

  /** The connection is gone. */
  dispose(): void {
    this.clear();
  }

  private limits(): BacklogLimits {
    const a = this.o.allowance;
    if (a !== undefined && this.trusted === undefined) this.trusted = a.trusted(this.o.flow);
    const hardBytes = a !== undefined && this.trusted ? Math.max(a.bytes, this.o.softBytes) : this.o.softBytes;
    return { softBytes: this.o.softBytes, hardBytes, stallMs: a?.stallMs ?? 0 };
  }

  private stallReason(queued: number, now: number): string {
    const since = now - Math.max(this.overSince ?? now, this.lastTaken);
    return `send buffer not drained: ${queued} bytes unsent, none taken for ${since} ms`;
  }

  /** Checks again in `delayMs`: the stall time is always counted from the later of the two moments, not from the arming. */
  private armTimer(delayMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = this.o.clock.setTimer(delayMs, () => {
      this.timer = undefined;
      const queued = this.o.queued();
      if (this.overSince === undefined || queued <= this.o.softBytes) return this.clear();
      const stallMs = this.o.allowance?.stallMs ?? 0;
      const now = this.o.clock.now();
      const stalled = now - Math.max(this.overSince, this.lastTaken);
      if (stalled >= stallMs) this.o.onStall(this.stallReason(queued, now));
      else this.armTimer(stallMs - stalled);
    });
  }

  private clear(): void {
    this.overSince = undefined;
    this.timer?.cancel();
    this.timer = undefined;
  }
}
