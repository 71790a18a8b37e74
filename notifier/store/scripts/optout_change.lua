-- KEYS: state hash, opted-out set, audit stream, the callback log, the locations that
-- wrote to the number; for a change an incoming text asks for, then the markers that mark
-- the text as processed and, when its answer is claimed too, the sender's count of answers
-- to the keyword today.
-- ARGV: number, '1' to opt out or '0' to opt in, the new state JSON, the oldest audit id
-- to keep (milliseconds: older entries are dropped), the change's time (milliseconds,
-- the entry's id unless an entry already has a later one), the number of markers, the
-- answers a day may have and the count's TTL (both unused without the count key), the
-- callback log's oldest id to keep (ms), the clinics' outcome hashes' prefix and this
-- month (YYYY-MM), each marker's TTL, then the audit entry's field/value pairs.
-- A change is also logged for the booking systems of the locations that wrote to the
-- number (contact.opted_out or contact.opted_in), and an opt-out is counted in each of
-- those locations' outcome hash for the month.
-- Returns {changed, answered}: changed is 1 if the state changed, 0 if it already was so,
-- -1 if a marker is there already (a duplicate: nothing is written); answered is 1 if one
-- more answer may go (and it is counted).
--! include callback_log
--! include message_markers
local number = ARGV[1]
local markers = tonumber(ARGV[6])
local FIRST_MARKER_KEY, FIRST_MARKER_TTL = 6, 12
local OUTCOMES_TTL = 400 * 86400
local count = KEYS[FIRST_MARKER_KEY + markers]
local audit = {unpack(ARGV, FIRST_MARKER_TTL + markers)}

local function tell_booking_systems()
  local told = {type = ARGV[2] == '1' and 'contact.opted_out' or 'contact.opted_in',
                address = number,
                locations = table.concat(redis.call('SMEMBERS', KEYS[5]), ',')}
  for i = 1, #audit, 2 do
    local name = audit[i]
    if name == 'at' or name == 'channel' or name == 'source' or name == 'keyword' then
      told[name] = audit[i + 1]
    end
  end
  local fields = {}
  for _, name in ipairs({'type', 'at', 'channel', 'address', 'source', 'keyword',
                         'locations'}) do
    fields[#fields + 1] = name
    fields[#fields + 1] = told[name] or ''
  end
  log_callback(KEYS[4], ARGV[5], ARGV[9], fields)
end

local function count_opt_out()
  local channel = ''
  for i = 1, #audit, 2 do
    if audit[i] == 'channel' then
      channel = audit[i + 1]
    end
  end
  for _, location in ipairs(redis.call('SMEMBERS', KEYS[5])) do
    local outcomes = ARGV[10] .. location .. ':' .. ARGV[11]
    redis.call('HINCRBY', outcomes, 'optout|' .. channel, 1)
    redis.call('EXPIRE', outcomes, OUTCOMES_TTL)
  end
end

local function change_state()
  local was_out = redis.call('SISMEMBER', KEYS[2], number)
  if tostring(was_out) == ARGV[2] then
    return 0
  end
  local previous_since = ''
  local previous = redis.call('HGET', KEYS[1], number)
  if previous then
    previous_since = cjson.decode(previous)['since'] or ''
  end
  local at = tonumber(ARGV[5])
  local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
  if last then
    at = math.max(at, tonumber(string.match(last[1], '^(%d+)')))
  end
  redis.call('HSET', KEYS[1], number, ARGV[3])
  if ARGV[2] == '1' then
    redis.call('SADD', KEYS[2], number)
  else
    redis.call('SREM', KEYS[2], number)
  end
  redis.call('XADD', KEYS[3], 'MINID', ARGV[4], string.format('%d-*', at),
    'previous', was_out == 1 and 'opted_out' or 'opted_in',
    'previous_since', previous_since,
    unpack(audit))
  tell_booking_systems()
  if ARGV[2] == '1' then
    count_opt_out()
  end
  return 1
end

local function count_answer()
  local sent = redis.call('INCR', count)
  if sent == 1 then
    redis.call('EXPIRE', count, ARGV[8])
  end
  return sent <= tonumber(ARGV[7]) and 1 or 0
end

if already_processed(FIRST_MARKER_KEY, markers) then
  return {-1, 0}
end
local changed = change_state()
local answered = count and count_answer() or 0
mark_processed(FIRST_MARKER_KEY, markers, FIRST_MARKER_TTL)
return {changed, answered}
