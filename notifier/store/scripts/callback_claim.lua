-- KEYS: claimed deliveries, due deliveries. ARGV: now, lease until (epoch seconds), limit.
-- Lapsed claims first (a scheduler died between claim and hand-off), then due deliveries,
-- move to the claimed set, leased. Returns the deliveries claimed.
local out = {}
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, delivery in ipairs(lapsed) do
  redis.call('ZADD', KEYS[1], ARGV[2], delivery)
  out[#out + 1] = delivery
end
local room = tonumber(ARGV[3]) - #out
if room > 0 then
  for _, delivery in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1],
                                       'LIMIT', 0, room)) do
    redis.call('ZREM', KEYS[2], delivery)
    redis.call('ZADD', KEYS[1], ARGV[2], delivery)
    out[#out + 1] = delivery
  end
end
return out
