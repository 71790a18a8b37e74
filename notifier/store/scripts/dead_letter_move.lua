-- KEYS: dead set, dead hash, queue list, queue hash, audit stream.
-- ARGV: dead id, new id ('' to discard), new message, audit max length, audit pairs...
local removed = redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 0 then
  return 0
end
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
  redis.call('RPUSH', KEYS[3], ARGV[2])
end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 5))
return 1
