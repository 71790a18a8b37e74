-- log_callback(log, now_ms, min_id, fields): append one entry to the callback log, the
-- outbox of what booking systems are told, in the same step as the change it reports.
-- Entry ids follow the callers' clock (so that retention does too) and only grow: an
-- entry is never given an id at or below the last one's. At most 1000 entries share a
-- millisecond, so that an id reads as one growing integer (ms * 1000 + its sequence).
-- Entries older than min_id (ms) are dropped as the log grows. Returns the entry's id.
local function log_callback(log, now_ms, min_id, fields)
  local at = tonumber(now_ms)
  local last = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)[1]
  if last then
    local last_ms, last_seq = string.match(last[1], '^(%d+)-(%d+)$')
    last_ms, last_seq = tonumber(last_ms), tonumber(last_seq)
    if last_ms > at then
      at = last_ms
    end
    if last_ms == at and last_seq >= 999 then
      at = at + 1
    end
  end
  return redis.call('XADD', log, 'MINID', '~', min_id, string.format('%d-*', at),
                    unpack(fields))
end
