-- KEYS: claimed, the send queue's list, the send queue's messages hash (Dramatiq's
-- names: <ns>:send, <ns>:send.msgs). ARGV: for each entry, three values: its claimed
-- payload, its encoded Dramatiq message, that message's Redis id.
-- An entry still claimed leaves claimed and its message is enqueued as Dramatiq's
-- RedisBroker.enqueue writes one (dispatch.lua: HSET the messages hash, RPUSH the id).
-- An entry no longer claimed was handed off by another scheduler once this one's lease
-- lapsed: it is skipped, so no entry is handed off twice. Returns how many were handed.
local handed = 0
for i = 1, #ARGV, 3 do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[3], ARGV[i + 2], ARGV[i + 1])
    redis.call('RPUSH', KEYS[2], ARGV[i + 2])
    handed = handed + 1
  end
end
return handed
