-- append_story(key, line, longest, ttl): add one line to an appointment's story (the
-- list notifier/store/history.py reads), keep its last `longest` lines, and keep it `ttl`
-- seconds after this line.
local function append_story(key, line, longest, ttl)
  redis.call('RPUSH', key, line)
  redis.call('LTRIM', key, -tonumber(longest), -1)
  redis.call('EXPIRE', key, ttl)
end
