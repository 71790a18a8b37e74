-- KEYS: delivery record, this hour's counts, the provider id's link, the appointment's
-- story, the attempt lock, the channel's answer times.
-- ARGV: status, now (ISO), record ttl, counts ttl, provider id, send key, the story's line,
-- its longest length, its ttl, the answer time's bucket field ('' when the message was
-- found at the provider rather than sent) and seconds.
-- What a provider took, in one step: the answer time, the link from the provider's id to
-- the send key (for its status callbacks), the record moved forward, the story's line,
-- and the attempt lock released.
--! include delivery_move
if ARGV[10] ~= '' then
  redis.call('HINCRBY', KEYS[6], ARGV[10], 1)
  redis.call('HINCRBYFLOAT', KEYS[6], 'sum', ARGV[11])
end
redis.call('SET', KEYS[3], ARGV[6], 'EX', ARGV[3])
move_delivery(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], {'provider_id', ARGV[5]})
redis.call('RPUSH', KEYS[4], ARGV[7])
redis.call('LTRIM', KEYS[4], -tonumber(ARGV[8]), -1)
redis.call('EXPIRE', KEYS[4], ARGV[9])
redis.call('DEL', KEYS[5])
return 1
