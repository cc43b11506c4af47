/**
 * The admin-data engine (admin-sync-port.ts) on Redis: one hash per kind under the prefix (`pp:adm:{kind}`, field =
 * the record's key, value = its JSON), one stream `pp:adm:chg` and one counter `pp:adm:rev`. It has connections of
 * its own (commands, and a second one for blocking reads), so the SIP path's engine is never queued behind it.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { RedisLink, type RedisLinkOptions } from './redis-link.js';
import type { JsonValue } from '../../store/records.js';
import {
  ADMIN_KINDS,
  adminKey,
  batchOf,
  emptyAdminRecords,
  type AdminBatch,
  type AdminChange,
  type AdminCursor,
  type AdminEntry,
  type AdminKind,
  type AdminSnapshot,
  type AdminSyncEngine,
} from '../admin-sync-port.js';
import { ADMIN_SNAPSHOT, ADMIN_WRITE } from './admin-lua.js';
import { runScript, streamFields } from './lua-scripts.js';

/** Connection options (redis-link.ts) plus where the keys live. */
export interface RedisAdminSyncOptions extends Omit<RedisLinkOptions, 'autoPipelining'> {
  prefix?: string;
  streamMaxLen?: number;
}

type Raw = [string, string[]];

export class RedisAdminSync implements AdminSyncEngine {
  private readonly link: RedisLink;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly maxLen: number;

  constructor(options: RedisAdminSyncOptions) {
    this.link = new RedisLink(options);
    this.redis = this.link.redis;
    this.prefix = options.prefix ?? 'pp:';
    this.maxLen = options.streamMaxLen ?? 10_000;
  }

  private hash(kind: AdminKind): string {
    return `${this.prefix}adm:${kind}`;
  }
  private get stream(): string {
    return `${this.prefix}adm:chg`;
  }
  private get counter(): string {
    return `${this.prefix}adm:rev`;
  }

  async snapshot(origin: string, seed?: Record<AdminKind, JsonValue[]>): Promise<AdminSnapshot> {
    const args: (string | number)[] = [origin, this.maxLen];
    if (seed) {
      for (const kind of ADMIN_KINDS) {
        args.push(seed[kind].length);
        for (const r of seed[kind]) args.push(adminKey(kind, r), JSON.stringify(r));
      }
    }
    const out = (await runScript(this.redis, ADMIN_SNAPSHOT, [...ADMIN_KINDS.map((k) => this.hash(k)), this.stream, this.counter], args)) as [
      number,
      string,
      number,
      number,
      ...string[][],
    ];
    const records = emptyAdminRecords();
    const seeded = out[2] === 1;
    if (seeded) {
      ADMIN_KINDS.forEach((kind, i) => {
        const flat = (out[i + 4] ?? []) as string[];
        for (let j = 1; j < flat.length; j += 2) records[kind].push(JSON.parse(flat[j]!) as JsonValue);
      });
    }
    return { records, seeded, seededNow: out[3] === 1, cursor: { id: out[1], rev: Number(out[0]) } };
  }

  async write(origin: string, change: AdminChange): Promise<number> {
    const arg =
      change.op === 'put' || change.op === 'delete' ? change.key : change.op === 'deleteByAccount' ? change.accountId : String(change.cutoff);
    const json = change.op === 'put' ? JSON.stringify(change.record) : '';
    const rev = await runScript(this.redis, ADMIN_WRITE, [this.hash(change.kind), this.stream, this.counter], [change.op, change.kind, arg, json, origin, this.maxLen]);
    return Number(rev);
  }

  async read(cursor: AdminCursor, count: number, blockMs: number): Promise<AdminBatch> {
    // BLOCK 0 would wait for ever: a read without a wait is a plain XREAD on the command connection.
    const reply = (
      blockMs > 0
        ? await this.link.blockingReader().xread('COUNT', count, 'BLOCK', Math.min(blockMs, this.link.maxBlockMs), 'STREAMS', this.stream, cursor.id)
        : await this.redis.xread('COUNT', count, 'STREAMS', this.stream, cursor.id)
    ) as [string, Raw[]][] | null;
    const got = reply?.[0]?.[1] ?? [];
    if (got.length > 0) return batchOf(cursor, got.map(parseEntry));
    // Nothing new, yet the counter moved (trimmed entries) or went back (the engine lost its data).
    const counter = Number((await this.redis.get(this.counter)) ?? '0');
    return counter === cursor.rev ? { entries: [], gap: false, cursor } : { entries: [], gap: true, cursor: { id: cursor.id, rev: counter } };
  }

  close(): Promise<void> {
    return this.link.close();
  }

}

function parseEntry([id, flat]: Raw): AdminEntry {
  const f = streamFields(flat);
  const op = f.get('op');
  const kind = f.get('k') as AdminKind;
  const a = f.get('a') ?? '';
  const base = { id, rev: Number(f.get('rev')), origin: f.get('o') ?? '' };
  if (op === 'put') return { ...base, change: { op, kind, key: a, record: JSON.parse(f.get('v') ?? 'null') as JsonValue } };
  if (op === 'delete') return { ...base, change: { op, kind, key: a } };
  if (op === 'deleteByAccount') return { ...base, change: { op, kind, accountId: a } };
  if (op === 'deleteIdle') return { ...base, change: { op, kind: 'authTokens', cutoff: Number(a) } };
  return { ...base, change: { op: 'seed' } };
}
