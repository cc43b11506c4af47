/**
 * Mirrors this node's subscriptions into the cluster directory (cluster.md §6 `pp:sub:{id}`, §7 SUBSCRIBE), so the
 * admin list on any node shows them. The node stays authoritative; the directory is a copy its owner rewrites:
 * - on create, refresh and remove, and when a dialog's CSeq has moved a lease step (SEQUENCE_LEASE, 16) past what
 *   the directory holds, so its CSeq/version lag by less than a step; and once when a NOTIFY's answer arrives;
 * - writes are coalesced per id and flushed every `flushEveryMs` in one batch (auto-pipelined: one round trip per
 *   batch, never one per NOTIFY); an entry carries the subscription's expiresAt, so it lapses by itself;
 * - bounded and failure-tolerant: when a flush fails, the queue overflows or the feed drops events, the pending
 *   writes are dropped and the node goes on local only; a full re-mirror (every live subscription written, this
 *   node's stale entries removed) then runs as soon as the engine answers again, and on `remirror()` (a new epoch,
 *   cluster.md §8).
 */
import type { PresenceEvent, PresenceFeed } from '../../feed/presence-feed.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Unsubscribe } from '../../lib/feed.js';
import { TimeSlicer } from '../../lib/idle-slices.js';
import type { Logger } from '../../lib/logger.js';
import type { SubscriptionRecord } from '../../store/records.js';
import type { ClusterEngine, DirectoryEntry } from '../engine-port.js';
import { directoryEntryOf } from './directory-record.js';

export interface SubscriptionMirrorOptions {
  engine: ClusterEngine;
  /** This node's name (`PISTON_NODE_NAME`, the list's `stalker`). */
  node: string;
  clock: Clock;
  logger: Logger;
  /** Every live subscription of this node now (`Notifier.liveRecords`): what a full re-mirror writes. */
  liveRecords: () => readonly Readonly<SubscriptionRecord>[];
  /** Coalescing window: pending writes leave at most this often (default 100 ms). */
  flushEveryMs?: number;
  /** Writes per batch (default 1000); a larger backlog leaves in several batches, one after the other. */
  batchSize?: number;
  /** Pending writes beyond which the queue is dropped for a full re-mirror (default 100,000). */
  maxPending?: number;
  /** CSeq steps between mirrored NOTIFY states (the notifier's SEQUENCE_LEASE, 16). */
  cseqStep?: number;
  /** While the engine fails, a re-mirror is tried this often (default 1000 ms). */
  retryEveryMs?: number;
  /** Events the feed may queue for the mirror (default 65,536); beyond, a full re-mirror follows. */
  feedCapacity?: number;
}

type Op = { kind: 'write'; entry: DirectoryEntry } | { kind: 'remove'; id: string; domain: string };

/** What the directory holds of a subscription, as far as this node knows (drives the NOTIFY filters). */
interface Mirrored {
  cseq: number;
  reply: number;
  domain: string;
}

export interface MirrorStatus {
  /** Writes waiting for the next flush. */
  pending: number;
  /** The engine failed the last attempt: the directory lacks this node's latest state until a re-mirror. */
  degraded: boolean;
  /** A full re-mirror is due or running. */
  remirroring: boolean;
  /** Batches of pending writes sent (each one pipeline), entries written and removed, attempts that failed. */
  batches: number;
  written: number;
  removed: number;
  failures: number;
}

const MIRRORED_KINDS = new Set<PresenceEvent['kind']>(['subscription-created', 'subscription-refreshed', 'subscription-removed', 'notify-sent', 'notify-answered']);

export class SubscriptionMirror {
  private readonly engine: ClusterEngine;
  private readonly node: string;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly flushEveryMs: number;
  private readonly batchSize: number;
  private readonly maxPending: number;
  private readonly cseqStep: number;
  private readonly retryEveryMs: number;

  private readonly pending = new Map<string, Op>();
  private readonly mirrored = new Map<string, Mirrored>();
  /** Live subscriptions of this node per watched domain (the heartbeat announces the domains, cluster-listing.ts). */
  private readonly domains = new Map<string, number>();
  /** Removed while a re-mirror runs: it must not write them back from its older list. */
  private readonly removedDuringRemirror = new Set<string>();
  private remirrorDue = false;
  private remirrorRunning = false;
  private degraded = false;
  /** The step running now, if any. */
  private current: Promise<void> | null = null;
  private closed = false;
  private timer: TimerHandle | null = null;
  private unsubscribe: Unsubscribe | null = null;
  private batches = 0;
  private written = 0;
  private removed = 0;
  private failures = 0;

  constructor(private readonly opts: SubscriptionMirrorOptions) {
    this.engine = opts.engine;
    this.node = opts.node;
    this.clock = opts.clock;
    this.logger = opts.logger.child({ module: 'cluster-mirror' });
    this.flushEveryMs = opts.flushEveryMs ?? 100;
    this.batchSize = opts.batchSize ?? 1000;
    this.maxPending = opts.maxPending ?? 100_000;
    this.cseqStep = opts.cseqStep ?? 16;
    this.retryEveryMs = opts.retryEveryMs ?? 1000;
  }

  /**
   * Listens to the feed (as a queued observer: the SIP path never waits for Redis) and starts with a full re-mirror,
   * which also covers the subscriptions restored from SQLite at start (they raise no `subscription-created`).
   */
  start(feed: PresenceFeed): void {
    this.unsubscribe = feed.subscribe((event) => this.take(event), {
      name: 'cluster-mirror',
      filter: (event) => this.wanted(event),
      onMissed: (count) => this.lose(`the feed dropped ${count} events`),
      // A full re-mirror costs far more than queued references: room for a reboot storm's subscriptions.
      capacity: this.opts.feedCapacity ?? 65_536,
    });
    this.remirror();
  }

  /** Rewrites every live subscription and removes this node's stale entries (a new epoch: the engine lost its data). */
  remirror(): void {
    this.remirrorDue = true;
    this.pending.clear();
    this.schedule(0);
  }

  status(): MirrorStatus {
    return {
      pending: this.pending.size,
      degraded: this.degraded,
      remirroring: this.remirrorDue || this.remirrorRunning,
      batches: this.batches,
      written: this.written,
      removed: this.removed,
      failures: this.failures,
    };
  }

  /**
   * The domains this node's subscriptions watch, at most `max` of them (null beyond: the others then read this
   * node's whole directory instead of its domains' indexes).
   */
  watchedDomains(max: number): string[] | null {
    return this.domains.size > max ? null : [...this.domains.keys()].sort();
  }

  /** Sends what is pending now (for a clean stop and for tests); a failure leaves the mirror degraded. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.current !== null) await this.current;
      else if (this.closed || this.degraded || (this.pending.size === 0 && !this.remirrorDue)) return;
      else await this.runOnce();
    }
  }

  /** Stops listening; pending writes are sent once, best effort (the entries lapse by their TTL anyway). */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.timer?.cancel();
    this.timer = null;
    if (this.current !== null) await this.current;
    if (!this.degraded && !this.remirrorDue) await this.runOnce();
    this.closed = true;
  }

  /**
   * Asked inside `emit` (cheap, never throws): only events that change what the directory must hold are queued. A
   * NOTIFY step or answer claims its place at once, so a burst queues one event per subscription and step, not one
   * per NOTIFY.
   */
  private wanted(event: PresenceEvent): boolean {
    if (!MIRRORED_KINDS.has(event.kind)) return false;
    if (event.kind === 'notify-sent') {
      const m = this.mirrored.get(event.subscription.id);
      if (m === undefined || event.cseq - m.cseq < this.cseqStep) return false;
      m.cseq = event.cseq;
      return true;
    }
    if (event.kind === 'notify-answered') {
      const m = this.mirrored.get(event.subscription.id);
      if (m === undefined || !event.answer.ok || event.answer.status === m.reply) return false;
      m.reply = event.answer.status;
      return true;
    }
    return true;
  }

  private take(event: PresenceEvent): void {
    if (this.closed) return;
    switch (event.kind) {
      case 'subscription-created':
      case 'subscription-refreshed':
        if (!this.mirrored.has(event.subscription.id)) this.count(event.subscription.domain, 1);
        this.write(event.subscription);
        break;
      case 'notify-sent':
      case 'notify-answered':
        // The filter let it through as a step or a new answer; a subscription removed since is not written back.
        if (this.mirrored.has(event.subscription.id)) this.write(event.subscription);
        break;
      case 'subscription-removed': {
        const rec = event.subscription;
        if (this.mirrored.delete(rec.id)) this.count(rec.domain, -1);
        if (this.remirrorRunning) this.removedDuringRemirror.add(rec.id);
        this.enqueue(rec.id, { kind: 'remove', id: rec.id, domain: rec.domain });
        break;
      }
      default:
        break;
    }
  }

  private count(domain: string, delta: number): void {
    const n = (this.domains.get(domain) ?? 0) + delta;
    if (n > 0) this.domains.set(domain, n);
    else this.domains.delete(domain);
  }

  private write(rec: Readonly<SubscriptionRecord>): void {
    this.mirrored.set(rec.id, { cseq: rec.localCseq, reply: rec.lastNotify?.reply ?? 0, domain: rec.domain });
    this.enqueue(rec.id, { kind: 'write', entry: directoryEntryOf(rec, this.node, this.clock.now()) });
  }

  private enqueue(id: string, op: Op): void {
    // Degraded or about to re-mirror everything: the re-mirror covers this change, nothing needs queueing.
    if (this.degraded || this.remirrorDue) return;
    this.pending.delete(id);
    this.pending.set(id, op);
    if (this.pending.size > this.maxPending) this.lose(`more than ${this.maxPending} directory writes pending`);
    else this.schedule(this.flushEveryMs);
  }

  /** The queue no longer reflects every change: drop it and re-mirror everything. */
  private lose(why: string): void {
    if (!this.remirrorDue) this.logger.warn({ node: this.node, why }, 'cluster directory mirror falls back to a full re-mirror');
    this.remirrorDue = true;
    this.pending.clear();
    this.schedule(this.degraded ? this.retryEveryMs : 0);
  }

  private schedule(ms: number): void {
    if (this.timer !== null || this.closed) return;
    this.timer = this.clock.setTimer(ms, () => {
      this.timer = null;
      void this.runOnce();
    });
  }

  /** One step: a full re-mirror when due, else one batch of pending writes; schedules the next step. */
  private runOnce(): Promise<void> {
    if (this.current !== null || this.closed) return this.current ?? Promise.resolve();
    const run = (this.remirrorDue ? this.remirrorAll() : this.sendBatch()).then((ok) => {
      this.current = null;
      this.after(ok);
    });
    this.current = run;
    return run;
  }

  private after(ok: boolean): void {
    if (this.closed) return;
    if (!ok) this.schedule(this.retryEveryMs);
    else if (this.remirrorDue || this.pending.size >= this.batchSize) this.schedule(0);
    else if (this.pending.size > 0) this.schedule(this.flushEveryMs);
  }

  private async sendBatch(): Promise<boolean> {
    const ops: Op[] = [];
    for (const [id, op] of this.pending) {
      this.pending.delete(id);
      ops.push(op);
      if (ops.length >= this.batchSize) break;
    }
    if (ops.length === 0) return true;
    this.batches++;
    // All issued in one turn: auto-pipelining sends them as one batch.
    const results = await Promise.allSettled(ops.map((op) => this.apply(op)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed === undefined) return true;
    this.fail(failed.reason);
    return false;
  }

  private apply(op: Op): Promise<void> {
    if (op.kind === 'write') return this.engine.mirrorSubscription(op.entry).then(() => void this.written++);
    return this.engine.removeSubscription(op.id, op.domain, this.node).then(() => void this.removed++);
  }

  /**
   * Every live subscription written again and this node's entries that are no longer live removed. Also the probe
   * while degraded: its first call failing means the engine is still away.
   */
  private async remirrorAll(): Promise<boolean> {
    this.remirrorDue = false;
    this.remirrorRunning = true;
    this.removedDuringRemirror.clear();
    this.pending.clear();
    const known = new Set(this.mirrored.keys());
    try {
      const listed = await this.engine.listNode(this.node, this.clock.now());
      const records = this.opts.liveRecords().slice();
      const live = new Set<string>();
      const slicer = new TimeSlicer(5);
      for (let from = 0; from < records.length; from += this.batchSize) {
        const batch: Op[] = [];
        for (const rec of records.slice(from, from + this.batchSize)) {
          live.add(rec.id);
          if (this.removedDuringRemirror.has(rec.id)) continue;
          this.mirrored.set(rec.id, { cseq: rec.localCseq, reply: rec.lastNotify?.reply ?? 0, domain: rec.domain });
          batch.push({ kind: 'write', entry: directoryEntryOf(rec, this.node, this.clock.now()) });
          if (slicer.due()) await slicer.pause();
        }
        await this.applyAll(batch);
        if (this.closed) return true;
      }
      const stale: Op[] = listed.filter((e) => !live.has(e.id)).map((e) => ({ kind: 'remove', id: e.id, domain: e.domain }));
      for (let from = 0; from < stale.length; from += this.batchSize) await this.applyAll(stale.slice(from, from + this.batchSize));
      // Forget what this node no longer holds (a removal it missed; not what was created during this run), and count
      // the domains afresh.
      for (const id of known) if (!live.has(id)) this.mirrored.delete(id);
      this.domains.clear();
      for (const m of this.mirrored.values()) this.count(m.domain, 1);
      if (this.degraded) this.logger.info({ node: this.node, subscriptions: records.length }, 'cluster directory re-mirrored');
      this.degraded = false;
      return true;
    } catch (err) {
      this.fail(err);
      this.remirrorDue = true;
      return false;
    } finally {
      this.remirrorRunning = false;
    }
  }

  private async applyAll(ops: Op[]): Promise<void> {
    await Promise.all(ops.map((op) => this.apply(op)));
  }

  private fail(err: unknown): void {
    this.failures++;
    if (!this.degraded) this.logger.warn({ node: this.node, err }, 'cluster directory unreachable: subscriptions stay local until it answers');
    this.degraded = true;
    this.remirrorDue = true;
    this.pending.clear();
  }
}
