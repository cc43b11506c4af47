/**
 * The Lua scripts the Redis adapter runs (Redis 7.0 features only, cluster.md "Decided"). Each runs atomically, which
 * is what makes a commit one compare-and-set plus one stream entry (cluster.md §7).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

export function script(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** EVALSHA, loading the script on NOSCRIPT (a restarted or failed-over Redis has an empty script cache). */
export async function runScript(redis: Redis, s: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
  try {
    return await redis.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(s.lua, keys.length, ...keys, ...args);
  }
}

/** A stream entry's flat field list (`[name, value, name, value, ...]`) as a map. */
export function streamFields(flat: readonly string[]): Map<string, string> {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i]!, flat[i + 1]!);
  return f;
}

/**
 * commit. KEYS: resource hash, expiry zset, change stream, rev counter.
 * ARGV: expectedRev, doc ('' deletes), resource, origin, force ('1'/'0'), state ('' none), stream MAXLEN, n, then n
 * pairs (score, member) of the new document's publication expiries.
 * The hash keeps the members it put in the index (`exp`), so a commit removes exactly the old ones whatever the caller
 * believed. Answers {1, rev} or {0, currentRev}.
 */
export const COMMIT = script(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if cur ~= tonumber(ARGV[1]) then return {0, cur} end
local old = redis.call('HGET', KEYS[1], 'exp')
if old then for m in string.gmatch(old, '[^\\n]+') do redis.call('ZREM', KEYS[2], m) end end
local rev = redis.call('INCR', KEYS[4])
local deleted = ARGV[2] == ''
if deleted then
  redis.call('DEL', KEYS[1])
else
  local n = tonumber(ARGV[8])
  local members = {}
  for i = 1, n do
    local member = ARGV[8 + 2 * i]
    redis.call('ZADD', KEYS[2], ARGV[7 + 2 * i], member)
    members[i] = member
  end
  redis.call('HSET', KEYS[1], 'rev', rev, 'doc', ARGV[2], 'exp', table.concat(members, '\\n'))
end
local fields = {'r', ARGV[3], 'rev', rev, 'p', cur, 'o', ARGV[4], 'f', ARGV[5], 'd', deleted and '1' or '0'}
if ARGV[6] ~= '' then fields[#fields + 1] = 's'; fields[#fields + 1] = ARGV[6] end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', unpack(fields))
return {1, rev}
`);

/**
 * A non-blocking read with the counter, in one step so a commit cannot fall between them (which would look like a
 * gap). KEYS: change stream, rev counter. ARGV: cursor id, count. Answers {counter, entries}.
 */
export const READ = script(`
local entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
return {redis.call('GET', KEYS[2]) or '0', entries}
`);

/** The stream's last entry id with the counter, for a new reader. KEYS: change stream, rev counter. */
export const LATEST = script(`
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local id = '0-0'
if last[1] then id = last[1][1] end
return {id, redis.call('GET', KEYS[2]) or '0'}
`);
