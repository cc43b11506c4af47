import type { NotifyAnswer, NotifyFailure } from '../feed/presence-feed.js';
import type { StoredHistoryEntry } from '../store/history-port.js';

export type HistoryEntry = StoredHistoryEntry;

/** Entries kept per resource in memory (operator-ux.md: about 200). */
export const RING_SIZE = 200;
/** Entries kept in memory across all resources (operator-ux.md §9: 100,000 busy resources would otherwise hold GBs). */
export const GLOBAL_ENTRIES = 200_000;

/** First capacity of the columns; they double up to the global bound, so an idle server holds little. */
const FIRST_CAPACITY = 1024;

/** What a slot holds: a whole entry object, or a NOTIFY or its answer as numbers and a `NotifySource`. */
const FULL = 0;
const NOTIFY = 1;
const RESULT = 2;

/** An answer as one integer: a 2xx status as itself, a failure below zero, 0 for none yet. */
export type AnswerCode = number;
export const NO_ANSWER: AnswerCode = 0;

export function answerCode(answer: NotifyAnswer): AnswerCode {
  if (answer.ok) return answer.status;
  const f = answer.failure;
  return f === 'timeout' ? -1 : f === 'transport-error' ? -2 : -3 - f;
}

/** The answer as the history shows it (`status` or `failure`), null for none yet. */
export function answerOf(code: AnswerCode): { status: number } | { failure: NotifyFailure } | null {
  if (code > 0) return { status: code };
  if (code === NO_ANSWER) return null;
  return { failure: failureOf(code) };
}

function failureOf(code: AnswerCode): NotifyFailure {
  return code === -1 ? 'timeout' : code === -2 ? 'transport-error' : -3 - code;
}

/** One resource's entries: a chain through the slots, oldest to newest (`next`). */
class ResourceRing {
  oldest = -1;
  newest = -1;
  count = 0;
  /** Dropped from the map (all its entries went); a cached reference must look the resource up again. */
  dead = false;
  constructor(readonly key: string) {}
}

/**
 * The strings a subscription's NOTIFY entries share (its identity never changes: presence-feed.ts), made once per
 * subscription instead of once per entry; the entry's object is made only when the history is read.
 */
export class NotifySource {
  private watcherText: string | undefined = undefined;
  /** The rings' cached ring of `resource` (saves a map lookup per NOTIFY). */
  ring: ResourceRing | undefined = undefined;

  constructor(
    /** `user@domain` of the watched resource. */
    readonly resource: string,
    readonly event: string,
    readonly watcherUser: string,
    readonly watcherDomain: string,
    readonly callId: string,
  ) {}

  /** `user@host`, made on first use. */
  get watcher(): string {
    return (this.watcherText ??= `${this.watcherUser}@${this.watcherDomain}`);
  }
}

/**
 * A bounded ring of history entries per resource, and a bound on all of them together: past the global bound the
 * oldest entries of the server go first, whichever resource they belong to.
 *
 * The entries live in one circular set of columns of `total` slots (slot = arrival mod `total`, so the slot an
 * arrival overwrites is the server's oldest); each resource chains its slots oldest to newest. A NOTIFY or its answer
 * takes a slot of numbers and a reference to its subscription's shared strings, no object of its own: at 10,000
 * NOTIFY/s the per-entry objects and strings of a ring of arrays cost more CPU in the collector than in recording
 * (issue 23). Other kinds keep their entry object, as they arrive.
 */
export class HistoryRings {
  private readonly rings = new Map<string, ResourceRing>();
  private arrivals = 0;
  private held = 0;
  private capacity = 0;
  private seqs = new Float64Array(0);
  private ats = new Float64Array(0);
  private kinds = new Uint8Array(0);
  /** The CSeq of a NOTIFY or answer (RFC 3261 §8.1.1.5: 32-bit unsigned). */
  private cseqs = new Uint32Array(0);
  /** A NOTIFY's version; an answer's round trip in ms (NaN for none). */
  private nums = new Float64Array(0);
  /** A NOTIFY's `final` (0/1); an answer's `AnswerCode`. */
  private codes = new Int32Array(0);
  /** The next slot of the same resource, -1 for its newest. */
  private next = new Int32Array(0);
  /** The entry (FULL) or the NotifySource; undefined once the slot left its ring. */
  private refs: (HistoryEntry | NotifySource | undefined)[] = [];
  /** The ring the slot is in; undefined once it left it. */
  private owners: (ResourceRing | undefined)[] = [];

  constructor(
    private readonly perResource = RING_SIZE,
    private readonly total = GLOBAL_ENTRIES,
  ) {}

  add(entry: HistoryEntry): void {
    const slot = this.claim();
    this.kinds[slot] = FULL;
    this.refs[slot] = entry;
    this.link(slot, entry.seq, entry.at, this.ringOf(entry.resource));
  }

  /** A NOTIFY sent (its entry: `notify`). */
  addNotify(seq: number, at: number, source: NotifySource, cseq: number, version: number, final: boolean): void {
    const slot = this.claim();
    this.kinds[slot] = NOTIFY;
    this.refs[slot] = source;
    this.cseqs[slot] = cseq;
    this.nums[slot] = version;
    this.codes[slot] = final ? 1 : 0;
    this.link(slot, seq, at, this.sourceRing(source));
  }

  /** A NOTIFY's answer (its entry: `notify-result`); `rttMs` null when its NOTIFY was not seen. */
  addResult(seq: number, at: number, source: NotifySource, cseq: number, answer: AnswerCode, rttMs: number | null): void {
    const slot = this.claim();
    this.kinds[slot] = RESULT;
    this.refs[slot] = source;
    this.cseqs[slot] = cseq;
    this.nums[slot] = rttMs ?? Number.NaN;
    this.codes[slot] = answer;
    this.link(slot, seq, at, this.sourceRing(source));
  }

  /** The resource's entries, oldest first. */
  of(resource: string): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    const ring = this.rings.get(resource);
    if (ring) for (let s = ring.oldest; s !== -1; s = this.next[s]!) out.push(this.entryAt(s));
    return out;
  }

  /** The seq of the resource's oldest entry held, +Infinity when none. */
  oldestSeq(resource: string): number {
    const ring = this.rings.get(resource);
    return ring ? this.seqs[ring.oldest]! : Number.POSITIVE_INFINITY;
  }

  /**
   * Appends to `out` the newest `limit` of the resource's entries with a seq below `beforeSeq`, at or after `since`, of
   * `kind` (when given), oldest first. Only those are made into objects.
   */
  collect(resource: string, beforeSeq: number, since: number | undefined, kind: string | undefined, limit: number, out: HistoryEntry[]): void {
    const ring = this.rings.get(resource);
    if (!ring) return;
    const wanted = (s: number): boolean =>
      this.seqs[s]! < beforeSeq && (since === undefined || this.ats[s]! >= since) && (kind === undefined || this.kindAt(s) === kind);
    let matches = 0;
    for (let s = ring.oldest; s !== -1; s = this.next[s]!) if (wanted(s)) matches++;
    let skip = matches - limit;
    for (let s = ring.oldest; s !== -1; s = this.next[s]!) if (wanted(s) && skip-- <= 0) out.push(this.entryAt(s));
  }

  /** The resources that have entries (for a history that spans an extension's domains). */
  resources(): IterableIterator<string> {
    return this.rings.keys();
  }

  /** Entries held now, all resources. */
  get size(): number {
    return this.held;
  }

  /** The slot of the next arrival, freed of the server's oldest entry when the columns are full. */
  private claim(): number {
    const n = this.arrivals++;
    const slot = n % this.total;
    if (n >= this.total) {
      // Global bound: the slot's entry is the server's oldest; still in its ring, it is that ring's oldest.
      const owner = this.owners[slot];
      if (owner !== undefined && owner.oldest === slot) this.dropOldest(owner);
    } else if (slot >= this.capacity) this.grow();
    return slot;
  }

  private link(slot: number, seq: number, at: number, ring: ResourceRing): void {
    this.seqs[slot] = seq;
    this.ats[slot] = at;
    this.next[slot] = -1;
    this.owners[slot] = ring;
    if (ring.count === 0) ring.oldest = slot;
    else this.next[ring.newest] = slot;
    ring.newest = slot;
    ring.count++;
    this.held++;
    if (ring.count > this.perResource) this.dropOldest(ring);
  }

  private dropOldest(ring: ResourceRing): void {
    const slot = ring.oldest;
    ring.oldest = this.next[slot]!;
    ring.count--;
    this.held--;
    this.refs[slot] = undefined;
    this.owners[slot] = undefined;
    if (ring.count === 0) {
      ring.oldest = ring.newest = -1;
      ring.dead = true;
      this.rings.delete(ring.key);
    }
  }

  private ringOf(resource: string): ResourceRing {
    let ring = this.rings.get(resource);
    if (!ring) this.rings.set(resource, (ring = new ResourceRing(resource)));
    return ring;
  }

  private sourceRing(source: NotifySource): ResourceRing {
    const cached = source.ring;
    if (cached !== undefined && !cached.dead) return cached;
    return (source.ring = this.ringOf(source.resource));
  }

  private grow(): void {
    const size = Math.min(this.total, Math.max(FIRST_CAPACITY, this.capacity * 2));
    const widen = <A extends Float64Array | Uint8Array | Uint32Array | Int32Array>(from: A, to: A): A => {
      to.set(from);
      return to;
    };
    this.seqs = widen(this.seqs, new Float64Array(size));
    this.ats = widen(this.ats, new Float64Array(size));
    this.kinds = widen(this.kinds, new Uint8Array(size));
    this.cseqs = widen(this.cseqs, new Uint32Array(size));
    this.nums = widen(this.nums, new Float64Array(size));
    this.codes = widen(this.codes, new Int32Array(size));
    this.next = widen(this.next, new Int32Array(size));
    this.capacity = size;
  }

  private kindAt(slot: number): string {
    const k = this.kinds[slot];
    return k === NOTIFY ? 'notify' : k === RESULT ? 'notify-result' : (this.refs[slot] as HistoryEntry).kind;
  }

  /** The entry of a slot, as the history has always shown it (docs/operator-api.md; the same fields in the same order). */
  private entryAt(slot: number): HistoryEntry {
    const k = this.kinds[slot];
    if (k === FULL) return this.refs[slot] as HistoryEntry;
    const src = this.refs[slot] as NotifySource;
    const seq = this.seqs[slot]!;
    const at = this.ats[slot]!;
    const cseq = this.cseqs[slot]!;
    if (k === NOTIFY) {
      return { seq, at, kind: 'notify', resource: src.resource, event: src.event, watcher: src.watcher, call_id: src.callId, cseq, version: this.nums[slot]!, final: this.codes[slot] === 1 };
    }
    const rtt = this.nums[slot]!;
    const rtt_ms = Number.isNaN(rtt) ? null : rtt;
    const code = this.codes[slot]!;
    // Two literals rather than a spread: this runs per entry read, and a spread copies the slow way.
    return code > 0
      ? { seq, at, kind: 'notify-result', resource: src.resource, event: src.event, watcher: src.watcher, call_id: src.callId, cseq, status: code, rtt_ms }
      : { seq, at, kind: 'notify-result', resource: src.resource, event: src.event, watcher: src.watcher, call_id: src.callId, cseq, failure: failureOf(code), rtt_ms };
  }
}
