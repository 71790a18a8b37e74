-- KEYS: an endpoint's attempts in flight (a sorted set: attempt -> when its place lapses).
-- ARGV: the attempt's id, the most attempts in flight the endpoint may have, now and when
-- this attempt's place lapses (epoch seconds).
-- Takes a place among the endpoint's attempts in flight: 1 if taken, 0 if all are. A
-- place a worker never gave back (it died mid-attempt) lapses and is taken again.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[4]) - tonumber(ARGV[3])) + 1)
return 1
