-- KEYS: one hour's counts. ARGV: the mark of the copy the reader keeps (0: none), the
-- counts' ttl in ms. Returns {mark} while that copy is still right, else {mark, fields and
-- values}. The mark is when the hash expires: the delivery log pushes it forward with each
-- count, so it tells the last write to the millisecond. -2: no hash (still a mark: a count
-- creates one). 0: not to be kept, for a hash without an expiry (writes cannot be told
-- apart) or written this very millisecond (the next write could bear the same mark).
local expires = redis.call('PEXPIRETIME', KEYS[1])
if expires == -1 then
  expires = 0
elseif expires > 0 then
  local now = redis.call('TIME')
  if expires - tonumber(ARGV[2]) >= now[1] * 1000 + math.floor(now[2] / 1000) then
    expires = 0
  end
end
if expires ~= 0 and expires == tonumber(ARGV[1]) then
  return {expires}
end
return {expires, redis.call('HGETALL', KEYS[1])}
