-- KEYS: the sender's answer count for one keyword kind and one day. ARGV: the limit, the
-- key's TTL. Returns 1 if one more answer may go (and counts it).
local sent = redis.call('INCR', KEYS[1])
if sent == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
if sent <= tonumber(ARGV[1]) then
  return 1
end
return 0
