-- KEYS: the sender's notice key. ARGV: now (epoch seconds), the interval, the key's TTL.
-- The decision follows the caller's clock (tests move it); the TTL only cleans up.
local last = redis.call('GET', KEYS[1])
if last and tonumber(ARGV[1]) - tonumber(last) < tonumber(ARGV[2]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
