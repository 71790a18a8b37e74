-- KEYS: an endpoint's busy counter. ARGV: the most attempts in flight it may have, how
-- long a count may outlive a worker that died mid-attempt (seconds).
-- Takes one place among the endpoint's attempts in flight: 1 if taken, 0 if all are.
local busy = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
if busy > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return 0
end
return 1
