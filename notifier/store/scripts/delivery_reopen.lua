-- KEYS: record. ARGV: now, who, ttl seconds, the send key, now (epoch seconds), the keys'
-- prefix (the message index moves the message back to sending).
--! include message_index
local status = redis.call('HGET', KEYS[1], 'status')
local reason = redis.call('HGET', KEYS[1], 'reason')
if status ~= 'failed' or (reason ~= 'retries_exhausted' and reason ~= 'interrupted') then
  return 0
end
redis.call('HSET', KEYS[1], 'status', 'retrying', 'updated_at', ARGV[1],
           'reopened_at', ARGV[1], 'reopened_by', ARGV[2])
redis.call('HDEL', KEYS[1], 'ambiguous', 'failures')
redis.call('EXPIRE', KEYS[1], ARGV[3])
index_message(ARGV[6], ARGV[4], KEYS[1], status, 'retrying', tonumber(ARGV[5]),
              tonumber(ARGV[3]))
return 1
