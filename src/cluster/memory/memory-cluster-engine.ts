/**
 * The in-memory twin of the Redis adapter: the same contract (test/cluster/engine-contract.ts), for unit tests of the
 * cluster logic without a Redis. Several engines over one `MemoryClusterData` behave as nodes sharing one engine.
 * Time comes from the injected Clock, so TTLs and blocking reads follow a ManualClock in tests.
 */
import type { Clock } from '../../lib/clock.js';
import type { JsonValue } from '../../store/records.js';
import {
  DIRECTORY_GRACE_MS,
  type ChangeBatch,
  type ChangeCursor,
  type ClusterEngine,
  type CommitRequest,
  type CommitResult,
  type DirectoryEntry,
  type NodeStatus,
  type PublicationExpiry,
  type ResourceDoc,
  type ResourceSnapshot,
} from '../engine-port.js';
import { decodeDoc, encodeDoc } from '../resource-doc-codec.js';
import { expiryMember, parseExpiryMember } from '../expiry-member.js';
import { MemoryClusterData } from './memory-cluster-data.js';

export class MemoryClusterEngine implements ClusterEngine {
  private closed = false;

  constructor(
    readonly data: MemoryClusterData,
    private readonly clock: Clock,
  ) {}

  get connected(): boolean {
    return !this.closed;
  }

  async getResource(resource: string): Promise<ResourceSnapshot> {
    this.check();
    const r = this.data.resources.get(resource);
    return r ? { resource, rev: r.rev, doc: decodeDoc(r.docJson) } : { resource, rev: 0, doc: null };
  }

  async commit(req: CommitRequest): Promise<CommitResult> {
    this.check();
    const d = this.data;
    const current = d.resources.get(req.resource);
    const currentRev = current?.rev ?? 0;
    if (currentRev !== req.expectedRev) return { ok: false, rev: currentRev };
    const rev = ++d.lastRev;
    if (current) for (const m of expiryMembers(req.resource, decodeDoc(current.docJson))) d.pubexp.delete(m.member);
    if (req.doc) {
      d.resources.set(req.resource, { rev, docJson: encodeDoc(req.doc) });
      for (const m of expiryMembers(req.resource, req.doc)) d.pubexp.set(m.member, m.expiresAt);
    } else {
      d.resources.delete(req.resource);
    }
    d.changes.push({
      id: String(d.nextEntryId++),
      resource: req.resource,
      rev,
      prevRev: currentRev,
      origin: req.origin,
      force: req.force,
      state: req.state === null ? null : (JSON.parse(JSON.stringify(req.state)) as JsonValue),
      deleted: req.doc === null,
    });
    for (const wake of [...d.waiters]) wake();
    return { ok: true, rev };
  }

  async dueExpiries(now: number, limit: number): Promise<PublicationExpiry[]> {
    this.check();
    return [...this.data.pubexp]
      .filter(([, at]) => at <= now)
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, limit)
      .map(([member, at]) => ({ ...parseExpiryMember(member), expiresAt: at }));
  }

  async latestCursor(): Promise<ChangeCursor> {
    this.check();
    const last = this.data.changes.at(-1);
    return { id: last?.id ?? '0', rev: this.data.lastRev };
  }

  async readChanges(cursor: ChangeCursor, count: number, blockMs: number): Promise<ChangeBatch> {
    this.check();
    let batch = this.readNow(cursor, count);
    if (batch.entries.length === 0 && !batch.gap && blockMs > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          timer.cancel();
          this.data.waiters.delete(done);
          resolve();
        };
        const timer = this.clock.setTimer(blockMs, done);
        this.data.waiters.add(done);
      });
      this.check();
      batch = this.readNow(cursor, count);
    }
    return batch;
  }

  private readNow(cursor: ChangeCursor, count: number): ChangeBatch {
    const after = this.data.changes.filter((e) => Number(e.id) > Number(cursor.id));
    const entries = after.slice(0, count).map((e) => structuredClone(e));
    const first = entries[0];
    // Lost entries show as a jump in rev, or as revs taken that no entry delivers (all trimmed), or as the counter
    // going back (the engine lost its data).
    const gap = first ? first.rev !== cursor.rev + 1 : this.data.lastRev !== cursor.rev;
    const last = entries.at(-1);
    return { entries, gap, cursor: last ? { id: last.id, rev: last.rev } : gap ? { id: cursor.id, rev: this.data.lastRev } : cursor };
  }

  async mirrorSubscription(entry: DirectoryEntry): Promise<void> {
    this.check();
    this.data.directory.set(entry.id, { entryJson: JSON.stringify(entry), keyUntil: entry.expiresAt + DIRECTORY_GRACE_MS });
  }

  async removeSubscription(id: string): Promise<void> {
    this.check();
    this.data.directory.delete(id);
  }

  async listDomain(domain: string, now: number): Promise<DirectoryEntry[]> {
    return this.list(now, (e) => e.domain === domain);
  }

  async listNode(node: string, now: number): Promise<DirectoryEntry[]> {
    return this.list(now, (e) => e.node === node);
  }

  private list(now: number, keep: (e: DirectoryEntry) => boolean): DirectoryEntry[] {
    this.check();
    const out: DirectoryEntry[] = [];
    for (const [id, stored] of this.data.directory) {
      if (stored.keyUntil <= this.clock.now()) {
        this.data.directory.delete(id);
        continue;
      }
      const e = JSON.parse(stored.entryJson) as DirectoryEntry;
      if (e.expiresAt > now && keep(e)) out.push(e);
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async heartbeat(node: string, info: JsonValue, ttlMs: number, now: number): Promise<void> {
    this.check();
    this.data.beats.set(node, { infoJson: JSON.stringify(info), until: this.clock.now() + ttlMs });
    this.data.nodes.set(node, now);
  }

  async nodes(): Promise<NodeStatus[]> {
    this.check();
    return [...this.data.nodes]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([node, lastSeen]) => {
        const beat = this.data.beats.get(node);
        const alive = beat !== undefined && beat.until > this.clock.now();
        return { node, lastSeen, alive, info: alive ? (JSON.parse(beat.infoJson) as JsonValue) : null };
      });
  }

  async forgetNode(node: string): Promise<void> {
    this.check();
    this.data.nodes.delete(node);
    this.data.beats.delete(node);
  }

  async epoch(candidate: string): Promise<string> {
    this.check();
    this.data.epoch ??= candidate;
    return this.data.epoch;
  }

  async sharedValue(name: string, candidate: string): Promise<string> {
    this.check();
    const found = this.data.shared.get(name);
    if (found !== undefined) return found;
    this.data.shared.set(name, candidate);
    return candidate;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw new Error('cluster engine closed');
  }
}

function expiryMembers(resource: string, doc: ResourceDoc | null): { member: string; expiresAt: number }[] {
  return (doc?.publications ?? []).map((p) => ({ member: expiryMember(resource, p.event, p.etag), expiresAt: p.expiresAt }));
}
