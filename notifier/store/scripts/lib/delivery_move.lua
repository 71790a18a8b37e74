--! include callback_log
--! include message_index
-- move_delivery(k, a): move a delivery record forward, count it, and log what booking
-- systems are told of it.
-- k: the record, this hour's counts, the callback log.
-- a: the status, now (ISO), the record's ttl, the counts' ttl, the send key, now (ms), the
-- callback log's oldest id to keep (ms), the address a failure concerns ('' if none), the
-- keys' prefix (for the message index), the clinics' outcome hashes' prefix, this month
-- (YYYY-MM), the prefix of the appointments' "reached" hashes, then field/value pairs to
-- write with the status.
-- Moves forward only; among the in-flight statuses (rank 0) any move is allowed. Each
-- status a record reaches (but the in-flight ones) is counted in the hour's counts hash by
-- status|channel|kind|language|location|reason, so dashboards read a few small hashes
-- instead of scanning every record; it is also counted in its location's outcome hash for
-- the month (channel|status), and a reminder delivered (or, by email, sent) marks its
-- appointment as reached by a reminder. A move that changes what booking systems are told
-- (sent, delivered, failed, suppressed) appends one entry to the callback log, with the
-- record as it now is. The message index follows the move (index_message). Returns the
-- previous status ('' if none) and whether the record changed.
-- The ranks of RANK in notifier/delivery_status.py, which a unit test holds equal.
local ranks = {
  ['submitting'] = 0, ['retrying'] = 0, ['accepted'] = 1, ['sent'] = 2,
  ['delivered'] = 3, ['undelivered'] = 3, ['failed'] = 3, ['suppressed'] = 3,
}
-- The callback each status is told by, as notifier/public_status.py maps the statuses
-- (a unit test holds them equal).
local told_as = {
  ['accepted'] = 'message.sent', ['sent'] = 'message.sent',
  ['delivered'] = 'message.delivered', ['undelivered'] = 'message.failed',
  ['failed'] = 'message.failed', ['suppressed'] = 'message.suppressed',
}
-- What the log keeps of the record (never an address: a failure's comes apart, in a[8]).
local logged = {'reference', 'location', 'kind', 'channel', 'lang', 'version', 'reason',
                'error_code', 'attempts', 'created_at'}
local OUTCOMES_TTL = 400 * 86400
local function count_outcome(record, status, channel, kind, location, a)
  if location ~= '' then
    local outcomes = a[10] .. location .. ':' .. a[11]
    redis.call('HINCRBY', outcomes, 'delivery|' .. channel .. '|' .. status, 1)
    redis.call('EXPIRE', outcomes, OUTCOMES_TTL)
  end
  if kind == 'reminder' and (status == 'delivered' or (status == 'sent' and channel == 'email')) then
    local reference = redis.call('HGET', record, 'reference')
    if reference then
      local reached = a[12] .. reference
      redis.call('HSET', reached, 'reached', '1')
      redis.call('EXPIRE', reached, a[3])
    end
  end
end
local function move_delivery(k, a)
  local record, status, now = k[1], a[1], a[2]
  local previous = redis.call('HGET', record, 'status') or ''
  local old = ranks[previous]
  local new = ranks[status]
  if old ~= nil and not (new > old or (new == 0 and old == 0)) then
    return {previous, 0}
  end
  if previous == '' then
    redis.call('HSET', record, 'created_at', now)
  end
  redis.call('HSET', record, 'status', status, 'updated_at', now, unpack(a, 13))
  if status == 'submitting' then
    redis.call('HINCRBY', record, 'attempts', 1)
  end
  redis.call('EXPIRE', record, a[3])
  index_message(a[9], a[5], record, previous, status, tonumber(a[6]) / 1000, tonumber(a[3]))
  if new > 0 then
    local r = redis.call('HMGET', record, 'channel', 'kind', 'lang', 'location',
                         'error_code', 'reason')
    local why = r[5] or r[6] or ''
    if status ~= 'failed' and status ~= 'undelivered' and status ~= 'suppressed' then
      why = ''
    end
    local field = table.concat({status, r[1] or '', r[2] or '', r[3] or '', r[4] or '', why},
                               '|')
    redis.call('HINCRBY', k[2], field, 1)
    redis.call('EXPIRE', k[2], a[4])
    count_outcome(record, status, r[1] or '', r[2] or '', r[4] or '', a)
  end
  local told = told_as[status]
  if told and told ~= told_as[previous] then
    local fields = {'type', told, 'at', now, 'key', a[5]}
    local kept = redis.call('HMGET', record, unpack(logged))
    for i, name in ipairs(logged) do
      if kept[i] then
        fields[#fields + 1] = name
        fields[#fields + 1] = kept[i]
      end
    end
    fields[#fields + 1] = 'status'
    fields[#fields + 1] = status
    if a[8] ~= '' then
      fields[#fields + 1] = 'address'
      fields[#fields + 1] = a[8]
    end
    log_callback(k[3], a[6], a[7], fields)
  end
  return {previous, 1}
end
