/**
 * Lua scripts: Redis runs each one atomically, so "check every limit of every subject,
 * then apply all or nothing" cannot interleave with another gateway process.
 *
 * Layout shared by all scripts: KEYS = one key per check; ARGV[1] = now (epoch ms),
 * ARGV[2] = reservation id, ARGV[3] = lease ms, then 5 values per check:
 *   kind ('b' bucket, 'p' parallel, 'q' quota), limit, amount or delta, p1, p2
 *   bucket: p1 = drain rate per ms;  quota: p1 = hash field, p2 = expire-at (epoch ms).
 * Numbers come back as strings: Lua numbers would be truncated to integers by Redis.
 */
import { createHash } from 'node:crypto';

export interface Script {
  name: string;
  lua: string;
  sha: string;
}

const define = (name: string, lua: string): Script => ({ name, lua, sha: createHash('sha1').update(lua).digest('hex') });

// %.17g round-trips a double exactly (Lua's tostring keeps only 14 digits).
const COMMON = `
local now = tonumber(ARGV[1])
local id = ARGV[2]
local lease = tonumber(ARGV[3])
local n = #KEYS
local function num(x) return string.format('%.17g', x) end
-- Returns the drained level and the stored timestamp (a clock that steps back keeps the later one).
local function level(key, rate)
  local s = redis.call('HMGET', key, 'l', 't')
  local l = tonumber(s[1])
  if not l then return 0, now end
  local t = tonumber(s[2])
  local el = now - t
  if el < 0 then el = 0 else t = now end
  l = l - el * rate
  if l < 0 then l = 0 end
  return l, t
end
local function setlevel(key, l, t, rate)
  if l <= 0 then redis.call('DEL', key) return end
  redis.call('HSET', key, 'l', num(l), 't', num(t))
  redis.call('PEXPIRE', key, math.ceil(l / rate) + 1000)
end
`;

export const RESERVE = define(
  'reserve',
  `${COMMON}
local used = {}
local ts = {}
local ok = 1
for i = 1, n do
  local b = 3 + (i - 1) * 5
  local kind = ARGV[b + 1]
  local limit = tonumber(ARGV[b + 2])
  local amount = tonumber(ARGV[b + 3])
  local u
  if kind == 'b' then
    u, ts[i] = level(KEYS[i], tonumber(ARGV[b + 4]))
  elseif kind == 'p' then
    u = redis.call('ZCARD', KEYS[i])
    -- Reclaim slots of crashed processes only when they could matter.
    if u >= limit then
      redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
      u = redis.call('ZCARD', KEYS[i])
    end
  else
    u = tonumber(redis.call('HGET', KEYS[i], ARGV[b + 4])) or 0
  end
  used[i] = u
  if not (u < limit and u + amount <= limit) then ok = 0 end
end
local out = { ok }
if ok == 1 then
  local expiring = {}
  for i = 1, n do
    local b = 3 + (i - 1) * 5
    local kind = ARGV[b + 1]
    local amount = tonumber(ARGV[b + 3])
    if kind == 'b' then
      local l = used[i] + amount
      setlevel(KEYS[i], l, ts[i], tonumber(ARGV[b + 4]))
      used[i] = l
    elseif kind == 'p' then
      redis.call('ZADD', KEYS[i], now + lease, id)
      redis.call('PEXPIRE', KEYS[i], lease + 1000)
      used[i] = used[i] + 1
    else
      if amount ~= 0 then used[i] = redis.call('HINCRBY', KEYS[i], ARGV[b + 4], amount) end
      -- Requests, tokens and spend of one window share a hash: set its expiry once.
      if not expiring[KEYS[i]] then
        redis.call('PEXPIREAT', KEYS[i], ARGV[b + 5])
        expiring[KEYS[i]] = true
      end
    end
  end
end
for i = 1, n do out[i + 1] = num(used[i]) end
return out
`,
);

export const ADJUST = define(
  'adjust',
  `${COMMON}
local out = {}
for i = 1, n do
  local b = 3 + (i - 1) * 5
  local kind = ARGV[b + 1]
  local d = tonumber(ARGV[b + 3])
  local v
  if kind == 'b' then
    local rate = tonumber(ARGV[b + 4])
    local l, t = level(KEYS[i], rate)
    v = l + d
    if v < 0 then v = 0 end
    setlevel(KEYS[i], v, t, rate)
  elseif kind == 'p' then
    redis.call('ZREM', KEYS[i], id)
    v = redis.call('ZCARD', KEYS[i])
  else
    local f = ARGV[b + 4]
    if d < 0 and redis.call('EXISTS', KEYS[i]) == 0 then
      -- The window's counter is gone: nothing left to refund.
      v = 0
    elseif d ~= 0 then
      v = redis.call('HINCRBY', KEYS[i], f, d)
      if v < 0 then
        redis.call('HSET', KEYS[i], f, 0)
        v = 0
      end
      redis.call('PEXPIREAT', KEYS[i], ARGV[b + 5])
    else
      v = tonumber(redis.call('HGET', KEYS[i], f)) or 0
    end
  end
  out[i] = num(v)
end
return out
`,
);

export const READ = define(
  'read',
  `${COMMON}
local out = {}
for i = 1, n do
  local b = 3 + (i - 1) * 5
  local kind = ARGV[b + 1]
  local v
  if kind == 'b' then
    v = level(KEYS[i], tonumber(ARGV[b + 4]))
  elseif kind == 'p' then
    v = redis.call('ZCOUNT', KEYS[i], '(' .. now, '+inf')
  else
    v = tonumber(redis.call('HGET', KEYS[i], ARGV[b + 4])) or 0
  end
  out[i] = num(v)
end
return out
`,
);
