-- KEYS: claimed deliveries, due deliveries. ARGV: now, lease until (epoch seconds), limit,
-- the prefix of the endpoints' keys ('<prefix>:endpoint:'), the most attempts in flight
-- an endpoint may have, when a delivery whose endpoint has them all is looked at again
-- (epoch seconds).
-- Lapsed claims first (a scheduler died between claim and hand-off), then due deliveries,
-- move to the claimed set, leased. A due delivery whose endpoint has every place in flight
-- taken (a stalled receiver: its attempts wait for their timeout) stays due, looked at
-- again later, so a stalled endpoint's backlog does not cycle through the workers. (A
-- healthy endpoint frees its places in milliseconds: its deliveries all go, and the few
-- that find no place wait a moment in the worker.) Returns the deliveries claimed.
--! include lapsed_claims
local out = lapsed_claims(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
local room = tonumber(ARGV[3]) - #out
if room <= 0 then
  return out
end
local full = {}
local most = tonumber(ARGV[5])
for _, delivery in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1],
                                     'LIMIT', 0, room)) do
  -- A delivery is '"<endpoint>|<event id>"' (a JSON string).
  local endpoint = string.match(delivery, '^"([^|]*)|')
  if full[endpoint] == nil then
    local busy = ARGV[4] .. endpoint .. ':busy'
    full[endpoint] = redis.call('ZCOUNT', busy, '(' .. ARGV[1], '+inf') >= most
  end
  if full[endpoint] then
    redis.call('ZADD', KEYS[2], ARGV[6], delivery)
  else
    redis.call('ZREM', KEYS[2], delivery)
    redis.call('ZADD', KEYS[1], ARGV[2], delivery)
    out[#out + 1] = delivery
  end
end
return out
