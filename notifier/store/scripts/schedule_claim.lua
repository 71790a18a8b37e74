-- KEYS: claimed, then each channel's schedule. ARGV: now, lease_until, limit, pending key
-- prefix. A claimed message leaves its appointment's pending hash: "pending" means "not
-- yet handed off", which planning relies on. Lapsed claims go first, so a dead
-- scheduler's work goes out before newer work.
-- A packed pending value ('{"v":...}') is claimed with its slot in front ('{"s":"<slot>",
-- "v":...}', PlannedMessage.to_json): the claimed entry, then the send_message payload,
-- stands alone. A verbose value written before values were packed is claimed as it is.
--! include lapsed_claims
local out = lapsed_claims(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
for i = 2, #KEYS do
  local room = tonumber(ARGV[3]) - #out
  if room <= 0 then
    break
  end
  local due = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', ARGV[1], 'LIMIT', 0, room)
  for _, slot in ipairs(due) do
    redis.call('ZREM', KEYS[i], slot)
    local pending = ARGV[4] .. string.match(slot, '^[^:]+')
    local payload = redis.call('HGET', pending, slot)
    if payload then
      redis.call('HDEL', pending, slot)
      if string.sub(payload, 1, 5) == '{"v":' then
        payload = '{"s":"' .. slot .. '",' .. string.sub(payload, 2)
      end
      redis.call('ZADD', KEYS[1], ARGV[2], payload)
      out[#out + 1] = payload
    end
  end
end
return out
