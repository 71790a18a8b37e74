-- KEYS: delivery record, this hour's counts, the callback log, the channel's opted-out
-- numbers, the sender's rate timeline, the locations that wrote to this number.
-- ARGV: the number in E.164 ('' when the channel keeps no opt-outs); now in ms, the slot's
-- cost in ms and the longest wait in ms ('' for a sender without a limit); the message's
-- location and how long the number remembers it (seconds); then move_delivery's.
-- An attempt's last checks right before its provider is called, under its lock: the
-- opt-out, then the rate-limit slot, then the record marked 'submitting' (so an attempt
-- that dies from here on is looked up, not blindly repeated), and the location noted as
-- one that wrote to the number (whose booking system hears of the number's opt-outs).
-- Returns {'handed_over', status}, {'opted_out'}, {'too_far', ms until a slot} (nothing
-- reserved), or {'begun', ms to wait for the reserved slot, the previous status or ''}.
--! include delivery_move
--! include rate_slot
local status = redis.call('HGET', KEYS[1], 'status')
if status and status ~= 'submitting' and status ~= 'retrying' then
  return {'handed_over', status}
end
if ARGV[1] ~= '' and redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 1 then
  return {'opted_out'}
end
local wait = 0
if ARGV[3] ~= '' then
  wait = reserve_slot(KEYS[5], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
  if wait < 0 then
    return {'too_far', -wait}
  end
end
if ARGV[1] ~= '' then
  redis.call('SADD', KEYS[6], ARGV[5])
  redis.call('EXPIRE', KEYS[6], ARGV[6])
end
local moved = move_delivery({KEYS[1], KEYS[2], KEYS[3]}, {unpack(ARGV, 7)})
return {'begun', wait, moved[1]}
