/**
 * The ClusterEngine on Redis 7.0 (or Valkey) through ioredis with auto-pipelining (cluster.md §4, §6): calls made in
 * the same turn of the event loop leave as one pipeline, so the per-PUBLISH cost stays at one round trip. Blocking
 * stream reads run on a second connection of their own, never delaying the others.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { RedisLink, type RedisLinkOptions } from './redis-link.js';
import type { JsonValue } from '../../store/records.js';
import {
  DIRECTORY_GRACE_MS,
  type ChangeBatch,
  type ChangeCursor,
  type ChangeEntry,
  type ClusterEngine,
  type CommitRequest,
  type CommitResult,
  type DirectoryEntry,
  type NodeStatus,
  type PublicationExpiry,
  type ResourceSnapshot,
} from '../engine-port.js';
import { expiryMember, parseExpiryMember } from '../expiry-member.js';
import { decodeDoc, encodeDoc } from '../resource-doc-codec.js';
import { COMMIT, LATEST, READ, runScript, streamFields } from './lua-scripts.js';
import { RedisKeys } from './redis-keys.js';

/** Connection options (redis-link.ts) plus where the keys live. */
export interface RedisClusterEngineOptions extends Omit<RedisLinkOptions, 'autoPipelining'> {
  /** Key prefix; `pp:` unless a test isolates itself. */
  prefix?: string;
  /** `MAXLEN ~` of the change stream (cluster.md §6: 300k ≈ 30 s at 10k changes/s). */
  streamMaxLen?: number;
}

/** Directory fields the adapter keeps beside the owner's: `_` never starts a mirrored field name. */
const ID = '_id';
const DOMAIN = '_domain';
const NODE = '_node';
const EXPIRES = '_exp';

type Raw = [string, string[]];

export class RedisClusterEngine implements ClusterEngine {
  private readonly link: RedisLink;
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly maxLen: number;

  constructor(options: RedisClusterEngineOptions) {
    this.link = new RedisLink({ ...options, autoPipelining: true });
    this.redis = this.link.redis;
    this.keys = new RedisKeys(options.prefix);
    this.maxLen = options.streamMaxLen ?? 300_000;
  }

  get connected(): boolean {
    return this.link.connected;
  }

  async getResource(resource: string): Promise<ResourceSnapshot> {
    const [rev, doc] = await this.redis.hmget(this.keys.resource(resource), 'rev', 'doc');
    if (rev === null || doc === null) return { resource, rev: 0, doc: null };
    return { resource, rev: Number(rev), doc: decodeDoc(doc) };
  }

  async commit(req: CommitRequest): Promise<CommitResult> {
    const expiries: (string | number)[] = [];
    for (const p of req.doc?.publications ?? []) expiries.push(p.expiresAt, expiryMember(req.resource, p.event, p.etag));
    const k = this.keys;
    const [ok, rev] = (await runScript(this.redis, 
      COMMIT,
      [k.resource(req.resource), k.pubexp, k.changes, k.rev],
      [
        req.expectedRev,
        req.doc ? encodeDoc(req.doc) : '',
        req.resource,
        req.origin,
        req.force ? '1' : '0',
        req.state === null ? '' : JSON.stringify(req.state),
        this.maxLen,
        expiries.length / 2,
        ...expiries,
      ],
    )) as [number, number];
    return { ok: ok === 1, rev };
  }

  async dueExpiries(now: number, limit: number): Promise<PublicationExpiry[]> {
    const flat = await this.redis.zrangebyscore(this.keys.pubexp, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit);
    const out: PublicationExpiry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ ...parseExpiryMember(flat[i]!), expiresAt: Number(flat[i + 1]) });
    return out;
  }

  async latestCursor(): Promise<ChangeCursor> {
    const [id, rev] = (await runScript(this.redis, LATEST, [this.keys.changes, this.keys.rev], [])) as [string, string];
    return { id, rev: Number(rev) };
  }

  async readChanges(cursor: ChangeCursor, count: number, blockMs: number): Promise<ChangeBatch> {
    const [counter, raw] = (await runScript(this.redis, READ, [this.keys.changes, this.keys.rev], [cursor.id, count])) as [string, Raw[]];
    if (raw.length > 0) return batchOf(cursor, raw.map(parseEntry));
    // Revs were taken that no entry after the cursor delivers: trimmed away, or the engine lost its data.
    if (Number(counter) !== cursor.rev) return { entries: [], gap: true, cursor: { id: cursor.id, rev: Number(counter) } };
    if (blockMs <= 0) return { entries: [], gap: false, cursor };
    const wait = Math.min(blockMs, this.link.maxBlockMs);
    const reply = (await this.link.blockingReader().xread('COUNT', count, 'BLOCK', wait, 'STREAMS', this.keys.changes, cursor.id)) as
      | [string, Raw[]][]
      | null;
    const got = reply?.[0]?.[1] ?? [];
    return got.length > 0 ? batchOf(cursor, got.map(parseEntry)) : { entries: [], gap: false, cursor };
  }

  async mirrorSubscription(entry: DirectoryEntry): Promise<void> {
    const key = this.keys.subscription(entry.id);
    const own = { ...entry.fields, [ID]: entry.id, [DOMAIN]: entry.domain, [NODE]: entry.node, [EXPIRES]: String(entry.expiresAt) };
    // Rewritten whole, so a field the owner dropped does not linger.
    await this.redis
      .multi()
      .del(key)
      .hset(key, own)
      .pexpireat(key, entry.expiresAt + DIRECTORY_GRACE_MS)
      .zadd(this.keys.domainIndex(entry.domain), entry.expiresAt, entry.id)
      .zadd(this.keys.nodeIndex(entry.node), entry.expiresAt, entry.id)
      .exec();
  }

  async removeSubscription(id: string, domain: string, node: string): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.subscription(id))
      .zrem(this.keys.domainIndex(domain), id)
      .zrem(this.keys.nodeIndex(node), id)
      .exec();
  }

  listDomain(domain: string, now: number): Promise<DirectoryEntry[]> {
    return this.list(this.keys.domainIndex(domain), now);
  }

  listNode(node: string, now: number): Promise<DirectoryEntry[]> {
    return this.list(this.keys.nodeIndex(node), now);
  }

  private async list(index: string, now: number): Promise<DirectoryEntry[]> {
    // Index entries whose key has lapsed too are dropped here, so the indexes stay bounded without a janitor.
    void this.redis.zremrangebyscore(index, '-inf', now - DIRECTORY_GRACE_MS).catch(() => undefined);
    const ids = await this.redis.zrangebyscore(index, `(${now}`, '+inf');
    // One HGETALL per id, sent as one pipeline by auto-pipelining.
    const hashes = await Promise.all(ids.map((id) => this.redis.hgetall(this.keys.subscription(id))));
    const out: DirectoryEntry[] = [];
    for (const h of hashes) {
      const { [ID]: id, [DOMAIN]: domain, [NODE]: node, [EXPIRES]: exp, ...fields } = h;
      if (id === undefined || domain === undefined || node === undefined || exp === undefined) continue;
      if (Number(exp) <= now) continue;
      out.push({ id, domain, node, expiresAt: Number(exp), fields });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async heartbeat(node: string, info: JsonValue, ttlMs: number, now: number): Promise<void> {
    await this.redis.multi().set(this.keys.heartbeat(node), JSON.stringify(info), 'PX', ttlMs).zadd(this.keys.nodes, now, node).exec();
  }

  async nodes(): Promise<NodeStatus[]> {
    const flat = await this.redis.zrange(this.keys.nodes, 0, -1, 'WITHSCORES');
    const names: string[] = [];
    const seen: number[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      names.push(flat[i]!);
      seen.push(Number(flat[i + 1]));
    }
    if (names.length === 0) return [];
    const beats = await this.redis.mget(names.map((n) => this.keys.heartbeat(n)));
    return names
      .map((node, i) => {
        const beat = beats[i] ?? null;
        return { node, lastSeen: seen[i]!, alive: beat !== null, info: beat === null ? null : (JSON.parse(beat) as JsonValue) };
      })
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  async forgetNode(node: string): Promise<void> {
    await this.redis.multi().zrem(this.keys.nodes, node).del(this.keys.heartbeat(node)).exec();
  }

  async epoch(candidate: string): Promise<string> {
    // SET NX GET (Redis 7.0): sets when absent and answers the value it found, in one step.
    const old = (await this.redis.call('SET', this.keys.epoch, candidate, 'NX', 'GET')) as string | null;
    return old ?? candidate;
  }

  async sharedValue(name: string, candidate: string): Promise<string> {
    const old = (await this.redis.call('SET', this.keys.shared(name), candidate, 'NX', 'GET')) as string | null;
    return old ?? candidate;
  }

  close(): Promise<void> {
    return this.link.close();
  }

}

function parseEntry([id, flat]: Raw): ChangeEntry {
  const f = streamFields(flat);
  const s = f.get('s');
  return {
    id,
    resource: f.get('r') ?? '',
    rev: Number(f.get('rev')),
    prevRev: Number(f.get('p')),
    origin: f.get('o') ?? '',
    force: f.get('f') === '1',
    state: s === undefined ? null : (JSON.parse(s) as JsonValue),
    deleted: f.get('d') === '1',
  };
}

function batchOf(cursor: ChangeCursor, entries: ChangeEntry[]): ChangeBatch {
  const last = entries.at(-1)!;
  return { entries, gap: entries[0]!.rev !== cursor.rev + 1, cursor: { id: last.id, rev: last.rev } };
}
