-- KEYS: the sender's timeline. ARGV: now (ms), cost (ms of the timeline), longest wait (ms).
-- Returns the wait in ms (the slot is reserved), or -wait when it is too far (nothing
-- reserved).
local now = tonumber(ARGV[1])
local free_at = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(free_at, now)
local wait = start - now
if wait > tonumber(ARGV[3]) then
  return -wait
end
local until_ms = start + tonumber(ARGV[2])
redis.call('SET', KEYS[1], until_ms, 'PX', math.ceil(until_ms - now) + 1000)
return wait
