-- KEYS: due deliveries, tries, dead deliveries, the endpoint's health, its attempts in
-- flight.
-- ARGV: the delivery, what became of it, when it is due again (epoch seconds; for
-- 'retry' and 'wait'), now (ISO), the answer in words (the status or the failure), how
-- long the endpoint may fail before it is suspended (seconds), now (epoch seconds), the
-- attempt's id (its place in flight).
-- What became of a delivery, in one step:
--   'wait': the endpoint had too many attempts in flight: due again, no try counted;
--   'dropped': nothing to send (the endpoint or the event is gone): forgotten;
--   'shelved': its endpoint is suspended: kept with the dead, for an operator's recover;
--   after an attempt, which also leaves the endpoint's attempts in flight and writes its
--   health: 'delivered'; 'gone' (a 410: the caller disables the endpoint); 'retry' (a
--   try counted, due again); 'dead' (every retry used: kept for an operator's recover).
-- Returns 1 when the endpoint has been failing longer than it may, else 0.
local delivery, what = ARGV[1], ARGV[2]
if what == 'wait' then
  redis.call('ZADD', KEYS[1], ARGV[3], delivery)
  return 0
end
if what == 'dropped' or what == 'shelved' then
  redis.call('HDEL', KEYS[2], delivery)
  if what == 'shelved' then
    redis.call('ZADD', KEYS[3], ARGV[7], delivery)
  end
  return 0
end
redis.call('ZREM', KEYS[5], ARGV[8])
redis.call('HSET', KEYS[4], 'last_at', ARGV[4], 'last_answer', ARGV[5])
if what == 'delivered' then
  redis.call('HDEL', KEYS[2], delivery)
  redis.call('HINCRBY', KEYS[4], 'delivered', 1)
  redis.call('HDEL', KEYS[4], 'failing_since', 'failing_since_epoch')
  return 0
end
redis.call('HINCRBY', KEYS[4], 'failed', 1)
if what == 'gone' then
  redis.call('HDEL', KEYS[2], delivery)
  return 0
end
if redis.call('HSETNX', KEYS[4], 'failing_since', ARGV[4]) == 1 then
  redis.call('HSET', KEYS[4], 'failing_since_epoch', ARGV[7])
end
if what == 'retry' then
  redis.call('HINCRBY', KEYS[2], delivery, 1)
  redis.call('ZADD', KEYS[1], ARGV[3], delivery)
else
  redis.call('HDEL', KEYS[2], delivery)
  redis.call('ZADD', KEYS[3], ARGV[7], delivery)
end
local since = tonumber(redis.call('HGET', KEYS[4], 'failing_since_epoch'))
if since and tonumber(ARGV[7]) - since >= tonumber(ARGV[6]) then
  return 1
end
return 0
