-- KEYS: state hash, opted-out set, audit stream.
-- ARGV: number, '1' to opt out or '0' to opt in, the new state JSON, the oldest audit id
-- to keep (milliseconds: older entries are dropped), the change's time (milliseconds,
-- the entry's id unless an entry already has a later one), then the audit entry's
-- field/value pairs. Returns 1 if the state changed, 0 if it already was so.
local number = ARGV[1]
local was_out = redis.call('SISMEMBER', KEYS[2], number)
if tostring(was_out) == ARGV[2] then
  return 0
end
local previous_since = ''
local previous = redis.call('HGET', KEYS[1], number)
if previous then
  previous_since = cjson.decode(previous)['since'] or ''
end
redis.call('HSET', KEYS[1], number, ARGV[3])
if ARGV[2] == '1' then
  redis.call('SADD', KEYS[2], number)
else
  redis.call('SREM', KEYS[2], number)
end
local at = tonumber(ARGV[5])
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
if last then
  at = math.max(at, tonumber(string.match(last[1], '^(%d+)')))
end
redis.call('XADD', KEYS[3], 'MINID', ARGV[4], string.format('%d-*', at),
  'previous', was_out == 1 and 'opted_out' or 'opted_in',
  'previous_since', previous_since,
  unpack(ARGV, 6))
return 1
