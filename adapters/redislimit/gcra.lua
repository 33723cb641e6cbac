-- GCRA reservation: the same decisions as adapters/ratelimit's token bucket (capacity burst,
-- refilling at one token per interval), kept in one key as the theoretical arrival time (TAT):
-- when the bucket would be full again. All times are in microseconds.
--
-- KEYS[1]  the bucket
-- ARGV[1]  interval: microseconds per token (1e6 / rate), may be fractional
-- ARGV[2]  burst, at least 1
-- ARGV[3]  max_wait: how far ahead a token may be reserved, in whole microseconds
-- ARGV[4]  now, or -1 for Redis' own clock (TIME), the one clock all replicas share
--
-- Returns {1, wait} when a token is taken (the caller acts in wait microseconds) and
-- {0, wait} when it would come later than max_wait (nothing is taken; wait is when it would).

local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now < 0 then
  -- Redis 5+ replicates a script's effects, not the script, so TIME is allowed before a write.
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- The key holds "base offset": the TAT is base + offset, base a whole microsecond (the time of the
-- last reservation) and offset the TAT's distance from it. Stored as one absolute double, ~1.8e15
-- microseconds with a resolution of 0.25, the TAT would lose a fraction of a microsecond at every
-- fractional interval and drift; offsets stay small, and so precise.
local rel = 0 -- tat - now
local v = redis.call('GET', KEYS[1])
if v then
  local base, offset = string.match(v, '^(%S+) (%S+)$')
  if base then
    rel = (tonumber(base) - now) + tonumber(offset)
  end
end
if rel < 0 then
  rel = 0 -- the bucket is full
end

-- A token is free now when the bucket holds at least one: tat - now <= (burst - 1) * interval.
-- Otherwise the next one comes when that becomes true. Rounded to the microsecond, so that the
-- doubles' last bits never push an exact slot over max_wait.
local wait = math.floor(rel - (burst - 1) * interval + 0.5)
if wait < 0 then
  wait = 0
end
if wait > max_wait then
  return {0, wait}
end

rel = rel + interval
-- The key outlives its TAT by a minute: past the TAT a missing key and a stale one mean the same
-- full bucket, and the margin covers replicas whose clocks (ARGV[4]) run behind Redis'.
redis.call('SET', KEYS[1], string.format('%d %.17g', now, rel), 'PX', math.ceil(rel / 1000) + 60000)
return {1, wait}
