-- index_message(prefix, key, record, previous, status, now, ttl): keep the message index
-- (notifier/store/message_index.py) in step with a delivery record's move.
-- prefix: the keys' prefix; key: the send key; record: its delivery record's key;
-- previous, status: the record's status before and after ('' before its first move, when
-- the message was scheduled); now: epoch seconds; ttl: the records' ttl (seconds).
-- The message leaves its previous public status's set of its location and channel and
-- joins the new one, and moves up in its location's set of every message, scored by now
-- (plus the key's tie-breaking fraction); its row keeps the status. A set written drops
-- what is older than the records, and lives as long as they do. A record
-- without a location (nor a planned message's row to read it from) is not indexed.
-- The public statuses of notifier/public_status.py (a unit test holds them equal).
local index_status = {
  ['submitting'] = 'sending', ['retrying'] = 'sending', ['accepted'] = 'sent',
  ['sent'] = 'sent', ['delivered'] = 'delivered', ['undelivered'] = 'failed',
  ['failed'] = 'failed', ['suppressed'] = 'suppressed',
}
local function index_score(key, now)
  return math.floor(now) + tonumber(string.sub(redis.sha1hex(key), 1, 5), 16) / 1048576
end
local function index_message(prefix, key, record, previous, status, now, ttl)
  local new = index_status[status]
  if new == nil then
    return
  end
  local old = index_status[previous] or 'scheduled'
  local row = prefix .. ':message:' .. key
  local f = redis.call('HMGET', record, 'location', 'channel')
  local location = f[1] or redis.call('HGET', row, 'l')
  if not location then
    return
  end
  local channel = f[2] or string.match(key, '^[^:]*:[^:]*:([^:]*)')
  local base = prefix .. ':messages:' .. location .. ':'
  if old ~= new then
    redis.call('ZREM', base .. old .. ':' .. channel, key)
  end
  local score = index_score(key, now)
  local set = base .. new .. ':' .. channel
  redis.call('ZADD', set, score, key)
  redis.call('ZREMRANGEBYSCORE', set, '-inf', '(' .. (now - ttl))
  redis.call('EXPIRE', set, ttl)
  -- No expiry on the set of every message: it also holds messages due later than the
  -- records' ttl from now; it is trimmed on each write instead.
  local all = base .. 'all'
  redis.call('ZADD', all, score, key)
  redis.call('ZREMRANGEBYSCORE', all, '-inf', '(' .. (now - ttl))
  redis.call('HSET', row, 's', new)
  redis.call('EXPIRE', row, ttl)
end
-- index_planned(prefix, key, location, before, channel, masked, digest, due, now, ttl,
-- horizon): a message planned (or planned again) joins its location's scheduled set and
-- its set of every message, scored by when it is due; its row keeps its location, its
-- address masked and its status, for as long as the record would live after it is due;
-- the address's set (a digest of it; '' when it has none) finds it by address. before:
-- the location it was planned at until now (it leaves that location's sets when the
-- appointment moved clinic). Times in epoch seconds; horizon: how far ahead appointments
-- are planned (the address's set outlives its latest message by the records' ttl).
local function index_planned(prefix, key, location, before, channel, masked, digest, due,
                             now, ttl, horizon)
  due, now, ttl = tonumber(due), tonumber(now), tonumber(ttl)
  local oldest = '(' .. (now - ttl)
  local row = prefix .. ':message:' .. key
  redis.call('HSET', row, 'l', location, 'a', masked, 's', 'scheduled')
  redis.call('EXPIREAT', row, math.floor(due) + ttl)
  local score = index_score(key, due)
  local base = prefix .. ':messages:' .. location .. ':'
  for _, set in ipairs({base .. 'scheduled:' .. channel, base .. 'all'}) do
    redis.call('ZADD', set, score, key)
    redis.call('ZREMRANGEBYSCORE', set, '-inf', oldest)
  end
  redis.call('ZREM', base .. 'withdrawn:' .. channel, key)
  if before ~= location then
    local old = prefix .. ':messages:' .. before .. ':'
    redis.call('ZREM', old .. 'scheduled:' .. channel, key)
    redis.call('ZREM', old .. 'all', key)
  end
  if digest ~= '' then
    local to = prefix .. ':messages-to:' .. digest
    redis.call('ZADD', to, due, key)
    redis.call('ZREMRANGEBYSCORE', to, '-inf', oldest)
    redis.call('EXPIRE', to, ttl + tonumber(horizon))
  end
end
-- index_withdrawn(prefix, key, location, channel, now, ttl): a message taken back before
-- it left moves from its location's scheduled set to its withdrawn set, and up in its set
-- of every message.
local function index_withdrawn(prefix, key, location, channel, now, ttl)
  now, ttl = tonumber(now), tonumber(ttl)
  local base = prefix .. ':messages:' .. location .. ':'
  redis.call('ZREM', base .. 'scheduled:' .. channel, key)
  local score = index_score(key, now)
  local withdrawn = base .. 'withdrawn:' .. channel
  for _, set in ipairs({withdrawn, base .. 'all'}) do
    redis.call('ZADD', set, score, key)
    redis.call('ZREMRANGEBYSCORE', set, '-inf', '(' .. (now - ttl))
  end
  redis.call('EXPIRE', withdrawn, ttl)
  local row = prefix .. ':message:' .. key
  redis.call('HSET', row, 's', 'withdrawn')
  redis.call('EXPIRE', row, ttl)
end
-- The index's steps a script's staged writes may name, as if they were commands.
local index_steps = {index_planned = index_planned, index_withdrawn = index_withdrawn}
