import type { ResourceState } from '../events/event-package.js';
import type { ManualActor, PresenceEvent, PresenceFeed, Publisher } from '../feed/presence-feed.js';
import { setNewest } from '../lib/bounded-map.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Unsubscribe } from '../lib/feed.js';
import type { Logger } from '../lib/logger.js';
import type { HistoryRepository } from '../store/history-port.js';
import type { SubscriptionRecord } from '../store/records.js';
import { answerCode, answerOf, GLOBAL_ENTRIES, HistoryRings, NO_ANSWER, NotifySource, RING_SIZE, type AnswerCode, type HistoryEntry } from './history-rings.js';
import { lampOfDialogs, stateWord } from './lamp-word.js';

export type { HistoryEntry } from './history-rings.js';

/** Kinds of history entries (docs/operator-api.md). */
export const HISTORY_KINDS = ['publish', 'publish-expired', 'manual', 'state', 'subscribe', 'unsubscribe', 'notify', 'notify-result'] as const;
export type HistoryKind = (typeof HISTORY_KINDS)[number];

export interface PresenceHistoryOptions {
  feed: PresenceFeed;
  clock: Clock;
  logger: Logger;
  /** Where the rarer kinds are kept (SQLite or memory). */
  repository: HistoryRepository;
  /** The aggregated state of a resource for a package now (PresentityService.state). */
  stateOf(resource: string, event: string): ResourceState;
  /** How long stored entries are kept. Default 24 h. */
  retentionMs?: number;
  /** How often buffered entries are written, in one batch. Default 1 s. */
  flushMs?: number;
  ringSize?: number;
  globalEntries?: number;
}

/** The last NOTIFY of a subscription as the explanation shows it. */
export interface NotifyTrace {
  cseq: number;
  at: number;
  final: boolean;
  /** Null while in flight. */
  answer: { status: number } | { failure: string | number } | null;
  rttMs: number | null;
}

/** Who published a publication, and its lamp word (dialog only). */
export interface PublisherTrace {
  publisher: Publisher;
  state: string | undefined;
}

export interface ManualTrace {
  at: number;
  by: ManualActor | null;
}

export interface HistoryPage {
  /** Newest first. */
  entries: HistoryEntry[];
  /** Pass as `beforeSeq` for the next (older) page; absent when nothing older remains. */
  next?: number;
}

export interface HistoryQueryOptions {
  /** Only entries with a lower seq. */
  beforeSeq?: number;
  since?: number;
  kind?: string;
  limit: number;
}

export const DEFAULT_RETENTION_MS = 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;
/** Publishers remembered by entity-tag (a refresh changes the tag, so old tags are dropped oldest first). */
const PUBLISHERS_KEPT = 100_000;
/** Kinds that are written to the store (not `notify`, `notify-result`, nor refreshes: operator-ux.md §4). */
const STORED = new Set(['publish', 'publish-expired', 'manual', 'state', 'subscribe', 'unsubscribe']);

/**
 * A live subscription's shared strings and its last NOTIFY and answer, updated in place (no object per NOTIFY).
 */
class SubscriptionTrace extends NotifySource {
  /** Whether a NOTIFY was seen since the start; the fields below describe the last one. */
  notified = false;
  cseq = 0;
  at = 0;
  final = false;
  answer: AnswerCode = NO_ANSWER;
  /** NaN while in flight. */
  rttMs = Number.NaN;
}

const traceOf = (rec: Readonly<SubscriptionRecord>): SubscriptionTrace =>
  new SubscriptionTrace(`${rec.resource}@${rec.domain}`, rec.event, rec.watcherUser, rec.watcherDomain, rec.callId);

/**
 * The history of every resource (issue 23; docs/operator-api.md): a core listener of the presence feed that only
 * writes to memory in the turn of the event (nothing is lost, times are exact). It keeps a ring of recent entries per resource in memory, writes
 * the rarer kinds to the store in one batch a second, and remembers per live subscription its last NOTIFY and
 * answer, per publication its publisher and per resource who set its manual state: the explanation's parts.
 */
export class PresenceHistory {
  private readonly rings: HistoryRings;
  private pending: HistoryEntry[] = [];
  private seq: number;
  /** Per live subscription (by id): its strings and last NOTIFY. */
  private readonly subscriptions = new Map<string, SubscriptionTrace>();
  private readonly publishers = new Map<string, PublisherTrace>();
  private readonly manuals = new Map<string, ManualTrace>();
  /** Last state word per resource and package; absent = the package's idle word. */
  private readonly words = new Map<string, string>();
  private unsubscribe: Unsubscribe | undefined;
  private timer: TimerHandle | undefined;
  private lastPrune: number;
  private readonly retentionMs: number;
  private readonly flushMs: number;

  constructor(private readonly opts: PresenceHistoryOptions) {
    this.rings = new HistoryRings(opts.ringSize ?? RING_SIZE, opts.globalEntries ?? GLOBAL_ENTRIES);
    this.retentionMs = opts.retentionMs ?? DEFAULT_RETENTION_MS;
    this.flushMs = opts.flushMs ?? 1000;
    this.seq = opts.repository.maxSeq();
    this.lastPrune = -Infinity;
  }

  /** Starts observing the feed and writing batches. */
  start(): void {
    if (this.unsubscribe) return;
    // A core listener: each event is a few map and ring writes in memory (the store write is batched on a timer), less
    // than queueing it would cost; queued, it fell 226,826 events behind during a 100,000-subscription fill.
    this.unsubscribe = this.opts.feed.core((e) => this.observe(e));
    this.arm();
  }

  /** Stops observing; writes what is buffered. */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.timer?.cancel();
    this.timer = undefined;
    this.flush();
  }

  /** Writes buffered entries now (and prunes, at most hourly). */
  flush(): void {
    const batch = this.pending;
    if (batch.length > 0) {
      this.pending = [];
      try {
        this.opts.repository.append(batch);
      } catch (err) {
        this.opts.logger.warn({ err: (err as Error).message, entries: batch.length }, 'history: could not store entries');
      }
    }
    const now = this.opts.clock.now();
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      try {
        this.opts.repository.prune(now - this.retentionMs);
      } catch (err) {
        this.opts.logger.warn({ err: (err as Error).message }, 'history: could not prune');
      }
    }
  }

  /** Entries of any of `resources`, newest first, from memory and the store. */
  query(resources: readonly string[], q: HistoryQueryOptions): HistoryPage {
    const before = q.beforeSeq ?? Number.POSITIVE_INFINITY;
    const keep = (e: HistoryEntry): boolean =>
      e.seq < before && (q.since === undefined || e.at >= q.since) && (q.kind === undefined || e.kind === q.kind);
    const found: HistoryEntry[] = [];
    for (const resource of new Set(resources)) {
      const ringMin = this.rings.oldestSeq(resource);
      // Its newest limit + 1 suffice: the page takes the newest `limit` of all, and one more tells that more remain.
      this.rings.collect(resource, before, q.since, q.kind, q.limit + 1, found);
      // What the ring already dropped: the buffer not yet written, then the store.
      for (const e of this.pending) if (e.resource === resource && e.seq < ringMin && keep(e)) found.push(e);
      try {
        const stored = this.opts.repository.query({
          resources: [resource],
          beforeSeq: Math.min(before, ringMin),
          ...(q.since === undefined ? {} : { since: q.since }),
          ...(q.kind === undefined ? {} : { kind: q.kind }),
          limit: q.limit + 1,
        });
        if (stored.length > 0) {
          const buffered = new Set(this.pending.map((e) => e.seq));
          for (const e of stored) if (!buffered.has(e.seq)) found.push(e);
        }
      } catch (err) {
        this.opts.logger.warn({ err: (err as Error).message }, 'history: could not read stored entries');
      }
    }
    found.sort((a, b) => b.seq - a.seq);
    const entries = found.slice(0, q.limit);
    return found.length > q.limit ? { entries, next: entries.at(-1)!.seq } : { entries };
  }

  /** The last NOTIFY of a live subscription and its answer, when seen since the start. */
  lastNotify(subscriptionId: string): NotifyTrace | undefined {
    const t = this.subscriptions.get(subscriptionId);
    if (t === undefined || !t.notified) return undefined;
    return { cseq: t.cseq, at: t.at, final: t.final, answer: answerOf(t.answer), rttMs: Number.isNaN(t.rttMs) ? null : t.rttMs };
  }

  /** Who sent the PUBLISH that made this publication (its current entity-tag), when seen since the start. */
  publisher(resource: string, event: string, etag: string): PublisherTrace | undefined {
    return this.publishers.get(`${resource}\u0000${event}\u0000${etag}`);
  }

  /** When and by whom the resource's manual state was last set, when seen since the start. */
  manual(resource: string): ManualTrace | undefined {
    return this.manuals.get(resource);
  }

  /** Entries in memory now (tests, metrics). */
  get held(): number {
    return this.rings.size;
  }

  /** The subscription's trace, made on its first event. */
  private traced(rec: Readonly<SubscriptionRecord>): SubscriptionTrace {
    let t = this.subscriptions.get(rec.id);
    if (t === undefined) this.subscriptions.set(rec.id, (t = traceOf(rec)));
    return t;
  }

  private arm(): void {
    this.timer = this.opts.clock.setTimer(this.flushMs, () => {
      this.flush();
      if (this.unsubscribe) this.arm();
    });
  }

  private add(resource: string, kind: HistoryKind, fields: Record<string, unknown>, stored = STORED.has(kind)): void {
    const entry: HistoryEntry = { seq: ++this.seq, at: this.opts.clock.now(), kind, resource, ...fields };
    this.rings.add(entry);
    if (stored) this.pending.push(entry);
  }

  /** One feed event into entries and traces. */
  observe(e: PresenceEvent): void {
    switch (e.kind) {
      case 'publication': {
        const publisher = e.publisher;
        const key = `${e.resource}\u0000${e.event}\u0000${e.etag}`;
        const doc = e.document as { format?: string; dialogs?: { state: string }[] } | undefined;
        const state = doc?.format === 'dialog-info' ? lampOfDialogs(doc.dialogs) : undefined;
        if (e.action === 'remove') this.publishers.delete(key);
        else setNewest(this.publishers, key, { publisher, state }, PUBLISHERS_KEPT);
        this.add(
          e.resource,
          'publish',
          {
            event: e.event,
            action: e.action,
            etag: e.etag,
            expires: e.expires,
            ...(state === undefined ? {} : { state }),
            publisher: { source: publisher.source, transport: publisher.transport, from: publisher.from, user_agent: publisher.userAgent, call_id: publisher.callId },
          },
          e.action !== 'refresh',
        );
        return;
      }
      case 'publication-expired':
        this.publishers.delete(`${e.resource}\u0000${e.event}\u0000${e.etag}`);
        this.add(e.resource, 'publish-expired', { event: e.event, etag: e.etag });
        return;
      case 'manual': {
        const by = e.by === null ? null : { account_id: e.by.accountId, user_id: e.by.userId, method: e.by.method, request_id: e.by.requestId };
        if (e.action === 'set') this.manuals.set(e.resource, { at: this.opts.clock.now(), by: e.by });
        else this.manuals.delete(e.resource);
        this.add(e.resource, 'manual', { action: e.action, state: e.state, by });
        return;
      }
      case 'resource-changed':
        for (let i = 0; i < e.events.length; i++) {
          const event = e.events[i]!;
          const key = `${e.resource}\u0000${event}`;
          const to = stateWord((e.states?.[i] as ResourceState | undefined) ?? this.opts.stateOf(e.resource, event));
          const from = this.words.get(key) ?? idleWord(event);
          if (to === idleWord(event)) this.words.delete(key);
          else this.words.set(key, to);
          if (from !== to || e.force) this.add(e.resource, 'state', { event, from, to, force: e.force });
        }
        return;
      case 'subscription-created':
      case 'subscription-refreshed': {
        const rec = e.subscription;
        const t = this.traced(rec);
        this.add(
          t.resource,
          'subscribe',
          {
            event: rec.event,
            action: e.kind === 'subscription-created' ? 'new' : 'refresh',
            watcher: t.watcher,
            call_id: rec.callId,
            contact: rec.contact,
            transport: rec.flow.protocol,
            source: hostPort(rec.flow.remoteAddress, rec.flow.remotePort),
            expires: rec.grantedExpires,
          },
          e.kind === 'subscription-created',
        );
        return;
      }
      case 'subscription-removed': {
        const rec = e.subscription;
        const t = this.subscriptions.get(rec.id) ?? traceOf(rec);
        // Answers to NOTIFYs sent before the removal then have no round trip (the final NOTIFY, sent after, has one).
        this.subscriptions.delete(rec.id);
        this.add(t.resource, 'unsubscribe', { event: rec.event, watcher: t.watcher, call_id: rec.callId, reason: e.reason });
        return;
      }
      case 'notify-sent': {
        const t = this.traced(e.subscription);
        const now = this.opts.clock.now();
        t.notified = true;
        t.cseq = e.cseq;
        t.at = now;
        t.final = e.final;
        t.answer = NO_ANSWER;
        t.rttMs = Number.NaN;
        this.rings.addNotify(++this.seq, now, t, e.cseq, e.version, e.final);
        return;
      }
      case 'notify-answered': {
        const rec = e.subscription;
        const known = this.subscriptions.get(rec.id);
        const now = this.opts.clock.now();
        const code = answerCode(e.answer);
        let rtt: number | null = null;
        if (known !== undefined && known.notified && known.cseq === e.cseq) {
          rtt = now - known.at;
          known.answer = code;
          known.rttMs = rtt;
          // A final NOTIFY is the subscription's last (it is sent after the removal, or for a fetch): nothing asks for
          // its trace, which would otherwise stay for good.
          if (known.final) this.subscriptions.delete(rec.id);
        }
        this.rings.addResult(++this.seq, now, known ?? traceOf(rec), e.cseq, code, rtt);
        return;
      }
    }
  }
}

/** What a package's state word is when nothing is published (lamp-word.ts). */
function idleWord(event: string): string {
  if (event === 'presence') return 'open';
  if (event === 'message-summary') return 'none';
  return 'terminated';
}

function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
