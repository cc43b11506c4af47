import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PresenceEvent } from '../feed/presence-feed.js';
import { lampOfDialogs, type LampWord, brighter } from '../history/lamp-word.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Unsubscribe } from '../lib/feed.js';
import type { Logger } from '../lib/logger.js';
import { splitResourceKey } from '../presentity/resource-key.js';
import type { OperatorDeps } from './operator-deps.js';
import type { SubscriptionView } from './api-deps.js';
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from './stream-limits.js';

/** One extension as the stream shows it (docs/operator-api.md, "The extension object"). */
export interface ExtensionLamp {
  extension: string;
  state: LampWord;
  manual: string | null;
  watchers: number;
  watchers_by_event: Record<string, number>;
  failing: number;
  domains: string[];
}

/** What a stream is opened with. */
export interface StreamClientSpec {
  req: IncomingMessage;
  res: ServerResponse;
  /** The account's decision per domain. */
  served: (domain: string) => boolean;
  /** Same-account streams share computed lamps in one flush. */
  scope: string;
  /** Count only this package's watchers. */
  event: string | undefined;
  /** Checked again at every heartbeat. */
  stillAuthorized: () => boolean;
}

interface Client extends StreamClientSpec {
  nextId: number;
  heartbeat: TimerHandle | undefined;
  done: boolean;
}

export interface StreamHubOptions {
  operator: OperatorDeps;
  notifier: SubscriptionView;
  clock: Clock;
  logger: Logger;
  limits?: Partial<StreamLimits>;
}

/**
 * The live stream's server side (issue 23): every open stream of the admin API, fed by one observer of the presence
 * feed that exists only while a stream is open (no stream: no cost). The observer keeps an index of what a lamp needs
 * (domains per extension, watchers per resource and package, watchers whose NOTIFYs fail) from the events, marks
 * changed resources, and every `coalesceMs` (`busyCoalesceMs` after a large event) sends each stream the changed
 * extensions it may see. A stream whose client does not read is cut, never waited for: the SIP path only ever appends
 * to the observer's bounded queue.
 */
export class StreamHub {
  private readonly limits: StreamLimits;
  private readonly clients = new Set<Client>();
  private unsubscribe: Unsubscribe | undefined;
  private readonly domainsByUser = new Map<string, Set<string>>();
  private readonly counts = new Map<string, Map<string, number>>();
  /** Watchers whose last NOTIFY failed. */
  private readonly failing = new FailingWatchers();
  private dirty = new Set<string>();
  private flushTimer: TimerHandle | undefined;
  /** How long the next changes are gathered: `coalesceMs`, or `busyCoalesceMs` after a large lamp event. */
  private gatherMs: number;
  private closing = false;
  private readonly logger: Logger;

  constructor(private readonly opts: StreamHubOptions) {
    this.limits = { ...DEFAULT_STREAM_LIMITS, ...opts.limits };
    this.gatherMs = this.limits.coalesceMs;
    this.logger = opts.logger.child({ module: 'presence-stream' });
  }

  get open(): number {
    return this.clients.size;
  }

  /** Whether another stream may open now (not shutting down, below the limit). */
  admits(): 'ok' | 'closing' | 'full' {
    if (this.closing) return 'closing';
    return this.clients.size >= this.limits.maxStreams ? 'full' : 'ok';
  }

  /** Starts a stream on a response whose headers are not sent yet: headers, `retry`, then a snapshot. */
  attach(spec: StreamClientSpec): void {
    const client: Client = { ...spec, nextId: 1, heartbeat: undefined, done: false };
    if (this.clients.size === 0) this.startObserving();
    this.clients.add(client);
    spec.req.socket.setNoDelay(true);
    spec.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
      // The connection ends with the stream, so a shutdown's server.close() is not kept waiting by a keep-alive.
      Connection: 'close',
    });
    const gone = (): void => this.detach(client);
    spec.res.on('close', gone);
    spec.res.on('error', gone);
    this.write(client, 'retry: 1000\n\n');
    this.send(client, 'snapshot', { at: this.opts.clock.now(), extensions: this.snapshotFor(client) });
    this.armHeartbeat(client);
  }

  /** Ends every stream with `event: end` and refuses new ones (the API is shutting down). */
  closeAll(reason = 'shutdown'): void {
    this.closing = true;
    for (const client of [...this.clients]) this.end(client, reason);
  }

  // ---- clients ----

  private end(client: Client, reason: string): void {
    if (client.done) return;
    this.send(client, 'end', { reason });
    client.res.end();
    this.detach(client);
  }

  private detach(client: Client): void {
    if (client.done) return;
    client.done = true;
    client.heartbeat?.cancel();
    this.clients.delete(client);
    if (this.clients.size === 0) this.stopObserving();
  }

  private armHeartbeat(client: Client): void {
    client.heartbeat = this.opts.clock.setTimer(this.limits.heartbeatMs, () => {
      if (client.done) return;
      if (!client.stillAuthorized()) {
        this.end(client, 'unauthorized');
        return;
      }
      this.write(client, ': ping\n\n');
      if (!client.done) this.armHeartbeat(client);
    });
  }

  private send(client: Client, event: string, data: unknown): void {
    this.write(client, `id: ${client.nextId++}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** An event whose fields after `id` are already encoded (`framed`), the same bytes for every stream of a group. */
  private sendFramed(client: Client, framed: Buffer): void {
    this.write(client, `id: ${client.nextId++}\n`, framed);
  }

  /**
   * Writes, unless the client still has more than the bound unread from before: then it is cut (it reconnects to a
   * fresh snapshot). Checked before the write, so a snapshot may be larger than the bound, once. A `tail` goes out
   * in the same socket write as `text` (corked).
   */
  private write(client: Client, text: string, tail?: Buffer): void {
    if (client.done) return;
    const res = client.res;
    if (res.writableLength > this.limits.maxBufferedBytes) {
      this.logger.info({ buffered: res.writableLength }, 'live stream client too slow: cut');
      res.destroy();
      this.detach(client);
      return;
    }
    if (tail === undefined) {
      res.write(text);
      return;
    }
    res.cork();
    res.write(text);
    res.write(tail);
    res.uncork();
  }

  // ---- the feed ----

  private startObserving(): void {
    this.rebuild();
    // A core listener: it only updates the counts and marks keys dirty (the index of domains and the writes to the
    // sockets wait for the coalescing timer), which costs less than queueing the event would; it also never misses
    // one, so the index has no holes.
    this.unsubscribe = this.opts.operator.feed.core((e) => this.observe(e));
  }

  private stopObserving(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    this.gatherMs = this.limits.coalesceMs;
    this.dirty.clear();
    this.domainsByUser.clear();
    this.counts.clear();
    this.failing.clear();
  }

  /** The index from the live set and the resources with state. */
  private rebuild(): void {
    this.domainsByUser.clear();
    this.counts.clear();
    this.failing.clear();
    for (const rec of this.opts.notifier.liveRecords()) {
      const key = `${rec.resource}@${rec.domain}`;
      this.index(key);
      this.count(key, rec.event, 1);
      if (rec.strikes > 0) this.failing.set(rec.id, key);
    }
    for (const key of this.opts.operator.resources()) this.index(key);
  }

  private index(key: string): void {
    const { user, domain } = splitResourceKey(key);
    this.indexUser(user, domain);
  }

  private indexUser(user: string, domain: string): void {
    let domains = this.domainsByUser.get(user);
    if (!domains) this.domainsByUser.set(user, (domains = new Set()));
    domains.add(domain);
  }

  private count(key: string, event: string, delta: number): void {
    let byEvent = this.counts.get(key);
    if (!byEvent) this.counts.set(key, (byEvent = new Map()));
    const n = (byEvent.get(event) ?? 0) + delta;
    if (n > 0) byEvent.set(event, n);
    else {
      byEvent.delete(event);
      if (byEvent.size === 0) this.counts.delete(key);
    }
  }

  private observe(e: PresenceEvent): void {
    let key: string;
    switch (e.kind) {
      case 'resource-changed':
        key = e.resource;
        break;
      case 'subscription-created':
        key = `${e.subscription.resource}@${e.subscription.domain}`;
        this.count(key, e.subscription.event, 1);
        break;
      case 'subscription-removed':
        key = `${e.subscription.resource}@${e.subscription.domain}`;
        this.count(key, e.subscription.event, -1);
        this.failing.delete(e.subscription.id);
        break;
      case 'notify-answered':
        // Only what can change a lamp's failing count: a failure, or the first success after one.
        if (e.answer.ok && !this.failing.has(e.subscription.id)) return;
        key = `${e.subscription.resource}@${e.subscription.domain}`;
        if (e.answer.ok) this.failing.delete(e.subscription.id);
        else this.failing.set(e.subscription.id, key);
        break;
      default:
        return;
    }
    // Indexed at the flush, once per changed resource, not here on every event: this runs on the SIP path.
    this.dirty.add(key);
    this.flushTimer ??= this.opts.clock.setTimer(this.gatherMs, () => this.flush());
  }

  private flush(): void {
    this.flushTimer = undefined;
    const changed = this.dirty;
    this.dirty = new Set();
    const users = new Map<string, string[]>();
    for (const key of changed) {
      const { user, domain } = splitResourceKey(key);
      this.indexUser(user, domain);
      const list = users.get(user);
      if (list) list.push(domain);
      else users.set(user, [domain]);
    }
    this.gatherMs = users.size >= this.limits.busyLamps ? this.limits.busyCoalesceMs : this.limits.coalesceMs;
    // Streams of one account and filter see the same lamps: computed, serialised and encoded once per flush,
    // whatever the number of streams (ten boards cost one JSON text and one buffer, not ten).
    const framed = new Map<string, Buffer | null>();
    const at = this.opts.clock.now();
    for (const client of [...this.clients]) {
      const group = `${client.scope}\u0000${client.event ?? ''}`;
      let event = framed.get(group);
      if (event === undefined) {
        const out: ExtensionLamp[] = [];
        for (const [user, domains] of users) {
          if (!domains.some(client.served)) continue;
          const lamp = this.lampOf(user, client.served, client.event, true);
          if (lamp) out.push(lamp);
        }
        event = out.length === 0 ? null : Buffer.from(`event: lamp\ndata: ${JSON.stringify({ at, extensions: sortLamps(out) })}\n\n`);
        framed.set(group, event);
      }
      if (event !== null) this.sendFramed(client, event);
    }
    // Extensions left with nothing are sent once (above) and then forgotten: not in later snapshots.
    for (const user of users.keys()) {
      const domains = this.domainsByUser.get(user);
      if (!domains) continue;
      for (const d of [...domains]) if (!this.holds(`${user}@${d}`)) domains.delete(d);
      if (domains.size === 0) this.domainsByUser.delete(user);
    }
  }

  private snapshotFor(client: Client): ExtensionLamp[] {
    const out: ExtensionLamp[] = [];
    for (const user of this.domainsByUser.keys()) {
      const lamp = this.lampOf(user, client.served, client.event, false);
      if (lamp) out.push(lamp);
    }
    return sortLamps(out);
  }

  /** Whether a resource still has anything to show: watchers, a lamp that is not idle, a manual state. */
  private holds(key: string): boolean {
    if (this.counts.has(key)) return true;
    const { manual, state } = this.stateOf(key);
    return manual !== null || state !== 'terminated';
  }

  private stateOf(key: string): { state: LampWord; manual: string | null } {
    const op = this.opts.operator;
    const dialog = op.state(key, 'dialog') as unknown as { dialogs?: { state: string }[] } | undefined;
    return { state: lampOfDialogs(dialog?.dialogs), manual: op.manualState(key) };
  }

  /**
   * The extension over the domains `served` lets the client see; null when it has none there. `evenIfEmpty`: an
   * extension that just lost everything is still shown (watchers 0, idle) so a board can update its tile.
   */
  private lampOf(user: string, served: (d: string) => boolean, event: string | undefined, evenIfEmpty: boolean): ExtensionLamp | null {
    const domains = this.domainsByUser.get(user);
    if (!domains) return null;
    const lamp: ExtensionLamp = { extension: user, state: 'terminated', manual: null, watchers: 0, watchers_by_event: {}, failing: 0, domains: [] };
    let seen = false;
    for (const domain of domains) {
      if (!served(domain)) continue;
      seen = true;
      const key = `${user}@${domain}`;
      const { state, manual } = this.stateOf(key);
      const byEvent = this.counts.get(key);
      let watchers = 0;
      for (const [ev, n] of byEvent ?? []) {
        if (event !== undefined && ev !== event) continue;
        watchers += n;
        lamp.watchers_by_event[ev] = (lamp.watchers_by_event[ev] ?? 0) + n;
      }
      if (watchers === 0 && byEvent === undefined && state === 'terminated' && manual === null) continue;
      lamp.watchers += watchers;
      lamp.state = brighter(lamp.state, state);
      if (manual !== null && (lamp.manual === null || manual !== 'terminated')) lamp.manual = manual;
      lamp.domains.push(domain);
      lamp.failing += this.failing.at(key);
    }
    if (!seen || (lamp.domains.length === 0 && !evenIfEmpty)) return null;
    lamp.domains.sort();
    return lamp;
  }
}

/** Numeric extensions ascending, then the others in string order (the board's tile order). */
function sortLamps(lamps: ExtensionLamp[]): ExtensionLamp[] {
  // Each extension's number (NaN when not all digits) is found once, not at every comparison.
  const numberOf = new Map<string, number>();
  for (const l of lamps) numberOf.set(l.extension, /^\d+$/.test(l.extension) ? Number(l.extension) : NaN);
  return lamps.sort((a, b) => {
    const na = numberOf.get(a.extension)!;
    const nb = numberOf.get(b.extension)!;
    const numA = !Number.isNaN(na);
    const numB = !Number.isNaN(nb);
    if (numA && numB) return na - nb || (a.extension < b.extension ? -1 : 1);
    if (numA !== numB) return numA ? -1 : 1;
    return a.extension < b.extension ? -1 : a.extension > b.extension ? 1 : 0;
  });
}

/**
 * Watchers whose last NOTIFY failed, by subscription and counted per resource key: a lamp reads its count at once
 * instead of scanning every failing watcher (with many unanswered watchers that scan was the stream's largest cost).
 */
class FailingWatchers {
  private readonly keyOf = new Map<string, string>();
  private readonly perKey = new Map<string, number>();

  has(id: string): boolean {
    return this.keyOf.has(id);
  }

  set(id: string, key: string): void {
    if (this.keyOf.has(id)) return;
    this.keyOf.set(id, key);
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
  }

  delete(id: string): void {
    const key = this.keyOf.get(id);
    if (key === undefined) return;
    this.keyOf.delete(id);
    const left = (this.perKey.get(key) ?? 1) - 1;
    if (left === 0) this.perKey.delete(key);
    else this.perKey.set(key, left);
  }

  clear(): void {
    this.keyOf.clear();
    this.perKey.clear();
  }

  /** Failing watchers of one resource. */
  at(key: string): number {
    return this.perKey.get(key) ?? 0;
  }
}
