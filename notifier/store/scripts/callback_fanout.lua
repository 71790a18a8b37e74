-- KEYS: the fan-out cursor, the due deliveries. ARGV: the cursor as read ('' if none), the
-- new cursor (the last entry fanned out), the deliveries' due time (epoch seconds), then
-- the deliveries.
-- The entries after the cursor become deliveries, only if no other scheduler fanned them
-- out since the cursor was read (so none is fanned out twice). Returns how many
-- deliveries were added, or -1 when another scheduler was first.
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then
  return -1
end
redis.call('SET', KEYS[1], ARGV[2])
local added = 0
for i = 4, #ARGV do
  added = added + redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[i])
end
return added
