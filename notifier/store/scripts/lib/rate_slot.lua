-- reserve_slot(timeline, now, cost, longest_wait): reserve cost ms of a sender's timeline,
-- all in ms. Returns the wait before the slot (reserved), or -wait when the slot is further
-- away than longest_wait (nothing reserved).
local function reserve_slot(timeline, now, cost, longest_wait)
  local free_at = tonumber(redis.call('GET', timeline) or '0')
  local start = math.max(free_at, now)
  local wait = start - now
  if wait > longest_wait then
    return -wait
  end
  local until_ms = start + cost
  redis.call('SET', timeline, until_ms, 'PX', math.ceil(until_ms - now) + 1000)
  return wait
end
