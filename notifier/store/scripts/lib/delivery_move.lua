-- move_delivery(record, counts, status, now, ttl, counts_ttl, pairs): move a delivery record
-- to status if that is forward, writing the field/value pairs with it. Among the in-flight
-- statuses (rank 0) any move is allowed. Each status a record reaches (but the in-flight
-- ones) is counted in the hour's counts hash by
-- status|channel|kind|language|location|reason, so dashboards read a few small hashes
-- instead of scanning every record. Returns the previous status ('' if none) and whether
-- the record changed.
-- The ranks of RANK in notifier/delivery_status.py, which a unit test holds equal.
local ranks = {
  ['submitting'] = 0, ['retrying'] = 0, ['accepted'] = 1, ['sent'] = 2,
  ['delivered'] = 3, ['undelivered'] = 3, ['failed'] = 3, ['suppressed'] = 3,
}
local function move_delivery(record, counts, status, now, ttl, counts_ttl, pairs)
  local previous = redis.call('HGET', record, 'status') or ''
  local old = ranks[previous]
  local new = ranks[status]
  if old ~= nil and not (new > old or (new == 0 and old == 0)) then
    return {previous, 0}
  end
  if previous == '' then
    redis.call('HSET', record, 'created_at', now)
  end
  redis.call('HSET', record, 'status', status, 'updated_at', now, unpack(pairs))
  if status == 'submitting' then
    redis.call('HINCRBY', record, 'attempts', 1)
  end
  redis.call('EXPIRE', record, ttl)
  if new > 0 then
    local r = redis.call('HMGET', record, 'channel', 'kind', 'lang', 'location',
                         'error_code', 'reason')
    local why = r[5] or r[6] or ''
    if status ~= 'failed' and status ~= 'undelivered' and status ~= 'suppressed' then
      why = ''
    end
    local field = table.concat({status, r[1] or '', r[2] or '', r[3] or '', r[4] or '', why},
                               '|')
    redis.call('HINCRBY', counts, field, 1)
    redis.call('EXPIRE', counts, counts_ttl)
  end
  return {previous, 1}
end
