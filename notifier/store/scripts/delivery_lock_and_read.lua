-- KEYS: attempt lock, record. ARGV: lock ttl ms.
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return false
end
return redis.call('HGETALL', KEYS[2])
