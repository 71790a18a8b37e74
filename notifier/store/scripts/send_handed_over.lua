-- KEYS: delivery record, this hour's counts, the callback log, the provider id's link, the
-- appointment's story, the attempt lock, the channel's answer times, the number's open
-- questions (any key when the message asks none), this hour's usage.
-- ARGV: the story's line, its longest length, its ttl, the answer time's bucket field (''
-- when the message was found at the provider rather than sent) and seconds; the question
-- the message asks ('' if none), its appointment's reference, now (epoch seconds) and how
-- long the questions outlive their latest start (seconds); the usage field ('' when the
-- message was found rather than sent: it was counted when it went), its units and the
-- usage hash's ttl; then move_delivery's, the
-- provider id among its pairs (the record's ttl is the link's too).
-- What a provider took, in one step: the answer time, the link from the provider's id to
-- the send key (for its status callbacks), the record moved forward (and logged for the
-- booking system), the story's line, the question the message asks opened, and the
-- attempt lock released.
--! include delivery_move
--! include open_question
local move = {unpack(ARGV, 13)}
if ARGV[6] ~= '' then
  open_question(KEYS[8], ARGV[7], ARGV[6], tonumber(ARGV[8]), tonumber(ARGV[9]))
end
if ARGV[4] ~= '' then
  redis.call('HINCRBY', KEYS[7], ARGV[4], 1)
  redis.call('HINCRBYFLOAT', KEYS[7], 'sum', ARGV[5])
end
if ARGV[10] ~= '' then
  redis.call('HINCRBY', KEYS[9], ARGV[10], ARGV[11])
  redis.call('EXPIRE', KEYS[9], ARGV[12])
end
redis.call('SET', KEYS[4], move[5], 'EX', move[3])
move_delivery({KEYS[1], KEYS[2], KEYS[3]}, move)
redis.call('RPUSH', KEYS[5], ARGV[1])
redis.call('LTRIM', KEYS[5], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[5], ARGV[3])
redis.call('DEL', KEYS[6])
return 1
