/**
 * The admin-data scripts (admin-sync-port.ts) for Redis 7.0: each runs atomically, so a change is its write plus one
 * stream entry with the next admin rev, and a seed happens once however many nodes try at the same moment.
 */
import { script } from './lua-scripts.js';

/**
 * KEYS: the kind's hash, the admin stream, the admin rev counter. ARGV: op, kind, key (put/delete) or accountId
 * (deleteByAccount) or cutoff (deleteIdle), record JSON ('' unless put), origin, stream MAXLEN. Answers the rev, or 0
 * without writing when the engine holds no admin data (never seeded, or lost): the writer must seed it first, or its
 * one change would become the whole cluster's data.
 */
export const ADMIN_WRITE = script(`
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
local op = ARGV[1]
if op == 'put' then redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
elseif op == 'delete' then redis.call('HDEL', KEYS[1], ARGV[3])
else
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    local r = cjson.decode(all[i + 1])
    local gone
    if op == 'deleteByAccount' then gone = r.accountId == ARGV[3]
    else gone = type(r.lastUsedAt) == 'number' and r.lastUsedAt <= tonumber(ARGV[3]) end
    if gone then redis.call('HDEL', KEYS[1], all[i]) end
  end
end
local rev = redis.call('INCR', KEYS[3])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'rev', rev, 'o', ARGV[5], 'op', op, 'k', ARGV[2], 'a', ARGV[3], 'v', ARGV[4])
return rev
`);

/**
 * KEYS: the six kinds' hashes (ADMIN_KINDS order), the admin stream, the admin rev counter. ARGV: origin, stream
 * MAXLEN, then (optional seed) per kind n and n pairs (key, JSON). Seeds only an engine without admin data (rev 0).
 * Answers {rev, last stream id, has data (1/0), seeded by this call (1/0), then per kind the flat HGETALL when the
 * engine has data}.
 */
export const ADMIN_SNAPSHOT = script(`
local rev = tonumber(redis.call('GET', KEYS[8]) or '0')
local seeded = rev > 0
local now = 0
if not seeded and #ARGV > 2 then
  local i = 3
  local any = false
  for k = 1, 6 do
    local n = tonumber(ARGV[i])
    i = i + 1
    for j = 1, n do
      redis.call('HSET', KEYS[k], ARGV[i], ARGV[i + 1])
      i = i + 2
      any = true
    end
  end
  if any then
    rev = redis.call('INCR', KEYS[8])
    redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[2], '*', 'rev', rev, 'o', ARGV[1], 'op', 'seed')
    seeded = true
    now = 1
  end
end
local out = {rev, '0-0', seeded and 1 or 0, now}
local last = redis.call('XREVRANGE', KEYS[7], '+', '-', 'COUNT', 1)
if last[1] then out[2] = last[1][1] end
if seeded then for k = 1, 6 do out[k + 4] = redis.call('HGETALL', KEYS[k]) end end
return out
`);
