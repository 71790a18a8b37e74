-- KEYS: record, this hour's counts. ARGV: status, now, ttl seconds, counts ttl seconds,
-- then field/value pairs. Moves forward only; among the in-flight statuses (rank 0) any
-- move is allowed. Each status a record reaches (but the in-flight ones) is counted by
-- status|channel|kind|language|location|reason, so dashboards read a few small hashes
-- instead of scanning every record. Returns the previous status ('' if none) and whether
-- the record changed.
-- The ranks of RANK in notifier/store/deliveries.py, which a unit test holds equal.
local ranks = {
  ['submitting'] = 0, ['retrying'] = 0, ['accepted'] = 1, ['sent'] = 2,
  ['delivered'] = 3, ['undelivered'] = 3, ['failed'] = 3, ['suppressed'] = 3,
}
local previous = redis.call('HGET', KEYS[1], 'status') or ''
local old = ranks[previous]
local new = ranks[ARGV[1]]
if old ~= nil and not (new > old or (new == 0 and old == 0)) then
  return {previous, 0}
end
if previous == '' then
  redis.call('HSET', KEYS[1], 'created_at', ARGV[2])
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated_at', ARGV[2], unpack(ARGV, 5))
if ARGV[1] == 'submitting' then
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
if new > 0 then
  local r = redis.call('HMGET', KEYS[1], 'channel', 'kind', 'lang', 'location',
                       'error_code', 'reason')
  local why = r[5] or r[6] or ''
  if ARGV[1] ~= 'failed' and ARGV[1] ~= 'undelivered' and ARGV[1] ~= 'suppressed' then
    why = ''
  end
  local field = table.concat({ARGV[1], r[1] or '', r[2] or '', r[3] or '', r[4] or '', why},
                             '|')
  redis.call('HINCRBY', KEYS[2], field, 1)
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
return {previous, 1}
