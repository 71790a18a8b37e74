-- KEYS: pending hash, schedule. ARGV: slot, payload, score.
-- A deferred message comes back only if no newer plan took its slot.
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  return 1
end
return 0
