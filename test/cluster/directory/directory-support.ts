/**
 * Helpers for the directory tests: a node's live subscriptions driven through a real presence feed (as the notifier
 * emits them), and an engine wrapper that can fail, hang and count calls.
 */
import type { ClusterEngine } from '../../../src/cluster/engine-port.js';
import { createPresenceFeed, type PresenceFeed } from '../../../src/feed/presence-feed.js';
import type { Clock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { SubscriptionRecord } from '../../../src/store/records.js';
import { subscriptionRecord } from '../../store/helpers/records.js';

export interface DirectoryHarness {
  /** A new engine connection on the shared data: one node's. */
  engine(): ClusterEngine;
  clock: Clock;
  now(): number;
  /** Lets `ms` pass (a manual clock advances in small steps, letting the feed and promises run; real time sleeps). */
  pass(ms: number): Promise<void>;
  /** Loses every key (an engine restarted empty). */
  wipe(): Promise<void>;
  cleanup(): Promise<void>;
}

/** A node's subscriptions as its notifier holds them, changed the way the notifier changes them, told to the feed. */
export class FakeNode {
  readonly feed: PresenceFeed = createPresenceFeed({ logger: silentLogger });
  readonly live = new Map<string, SubscriptionRecord>();
  private n = 0;

  constructor(
    readonly name: string,
    private readonly clock: Clock,
  ) {}

  records = (): readonly Readonly<SubscriptionRecord>[] => [...this.live.values()];

  create(over: Partial<SubscriptionRecord> = {}): SubscriptionRecord {
    const k = ++this.n;
    const now = this.clock.now();
    const rec = subscriptionRecord({
      callId: `${this.name}-call-${k}`,
      localTag: `l${k}`,
      remoteTag: `r${k}`,
      resource: String(1000 + k),
      domain: 'pbx.example.com',
      localCseq: 0,
      version: 0,
      lastNotify: null,
      expiresAt: now + 600_000,
      createdAt: now,
      refreshedAt: now,
      node: this.name,
      ...over,
    });
    this.live.set(rec.id, rec);
    this.feed.emit({ kind: 'subscription-created', subscription: rec });
    return rec;
  }

  refresh(rec: SubscriptionRecord, expiresInMs: number): void {
    rec.refreshedAt = this.clock.now();
    rec.expiresAt = rec.refreshedAt + expiresInMs;
    this.feed.emit({ kind: 'subscription-refreshed', subscription: rec });
  }

  /** One NOTIFY sent (CSeq and version +1) and, when `reply` is given, answered. */
  notify(rec: SubscriptionRecord, reply?: number): void {
    rec.localCseq++;
    rec.lastNotify = { cseq: rec.localCseq, reply: 0, body: `<dialog-info version="${rec.version}"/>` };
    this.feed.emit({ kind: 'notify-sent', subscription: rec, final: false, cseq: rec.localCseq, version: rec.version });
    rec.version++;
    if (reply !== undefined) {
      rec.lastNotify.reply = reply;
      this.feed.emit({ kind: 'notify-answered', subscription: rec, answer: { ok: true, status: reply }, cseq: rec.localCseq });
    }
  }

  remove(rec: SubscriptionRecord): void {
    this.live.delete(rec.id);
    this.feed.emit({ kind: 'subscription-removed', subscription: rec, reason: 'unsubscribed' });
  }
}

export type Fault = 'none' | 'down' | 'hang';

/** Wraps an engine: `fault` 'down' rejects every call (and reads `connected` false), 'hang' never answers. */
export function faultyEngine(inner: ClusterEngine): { engine: ClusterEngine; fault: Fault; calls: Map<string, number> } {
  const ctl = { fault: 'none' as Fault, calls: new Map<string, number>(), engine: undefined as unknown as ClusterEngine };
  ctl.engine = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'connected') return ctl.fault === 'none' && target.connected;
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'close') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => {
        ctl.calls.set(String(prop), (ctl.calls.get(String(prop)) ?? 0) + 1);
        if (ctl.fault === 'down') return Promise.reject(new Error('connect ECONNREFUSED (test)'));
        if (ctl.fault === 'hang') return new Promise(() => undefined);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return ctl;
}
