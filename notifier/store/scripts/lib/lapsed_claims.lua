-- lapsed_claims(claimed, now, lease_until, limit): up to limit claims whose lease lapsed by
-- now (the scheduler that took them died before its hand-off), leased again until
-- lease_until; returns them, so that a dead scheduler's work goes out before newer work.
local function lapsed_claims(claimed, now, lease_until, limit)
  local out = {}
  for _, entry in ipairs(redis.call('ZRANGEBYSCORE', claimed, '-inf', now,
                                    'LIMIT', 0, limit)) do
    redis.call('ZADD', claimed, lease_until, entry)
    out[#out + 1] = entry
  end
  return out
end
