-- KEYS: the record, this hour's counts, the callback log (as move_delivery takes them), the
-- appointment's story, the family's fallbacks hash, the appointment's pending hash, the
-- address's contact-health hash, the location's undeliverable index, the index of
-- locations with an undeliverable contact; then, for each chosen
-- channel to look at, its planned message's record and its retry's record; then the
-- schedule of each candidate.
-- ARGV: 1 what follows ('nothing', 'retry' or 'fallback'), 2 the contact-health field
-- ('<location>|<reason>', '' when the address is not undeliverable), 3 the contact
-- health's ttl (s), 4 the index member, 5 now (epoch s), 6 the story's longest length,
-- 7 its ttl, 8 the pending hash's expiry (epoch s), 9 the records' ttl, 10 how many
-- channels to look at, 11 how many candidates, 12 the failure's own story line ('' for
-- none), 13 the location; then 5 values per candidate (the fallbacks hash field, slot, pending value, due
-- score, send key); then the story's line for a scheduled candidate with '%KEY%' and
-- '%CHANNEL%' in it; then move_delivery's arguments.
-- A failure (or a suppression) and its fallback in one step, so that a worker killed in
-- between leaves either neither (the step is tried again) or both:
-- 1. the record moves (move_delivery) and the story tells the failure; a record that did
--    not move (the failure processed again) changes nothing more;
-- 2. an address undeliverable for a reason its location did not know yet is remembered
--    (90 days) and told to the booking system (the log entry keeps the address); a reason
--    known already is not told again (the entry loses the address);
-- 3. for a fallback: the record is marked ready for it; only when every chosen channel's
--    latest message (its retry when there is one) is ready and none of the family was
--    delivered, the first candidate whose channel the family has not used yet is put in
--    the schedule (the fallbacks hash keeps one per channel, whatever comes twice), and
--    the story tells it after the failure; for a retry: the one retry is scheduled the
--    same way.
-- Returns the previous status, whether the record moved, and the send key scheduled ('').
--! include delivery_move
--! include story_line
local first = 14 + 5 * tonumber(ARGV[11]) + 1
local move = {unpack(ARGV, first)}
local field = ARGV[2]
if field ~= '' and redis.call('HEXISTS', KEYS[7], field) == 1 then
  move[8] = ''
end
local moved = move_delivery({KEYS[1], KEYS[2], KEYS[3]}, move)
if moved[2] == 0 then
  return {moved[1], 0, ''}
end
if ARGV[12] ~= '' then
  append_story(KEYS[4], ARGV[12], ARGV[6], ARGV[7])
end
local now = tonumber(ARGV[5])
if field ~= '' then
  local ttl = tonumber(ARGV[3])
  redis.call('HSET', KEYS[7], field, ARGV[5])
  redis.call('EXPIRE', KEYS[7], ttl)
  redis.call('ZADD', KEYS[8], now, ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', now - ttl)
  redis.call('EXPIRE', KEYS[8], ttl)
  redis.call('ZADD', KEYS[9], now, ARGV[13])
  redis.call('ZREMRANGEBYSCORE', KEYS[9], '-inf', now - ttl)
end
local follows = ARGV[1]
if follows == 'nothing' then
  return {moved[1], 1, ''}
end
local looked = tonumber(ARGV[10])
if follows == 'fallback' then
  redis.call('HSET', KEYS[1], 'fallback_ready', '1')
  for i = 0, looked - 1 do
    local planned, retry = KEYS[10 + 2 * i], KEYS[11 + 2 * i]
    local latest = retry
    if redis.call('EXISTS', retry) == 0 then
      latest = planned
    end
    local r = redis.call('HMGET', latest, 'status', 'fallback_ready', 'late_delivered')
    local p = redis.call('HMGET', planned, 'status', 'late_delivered')
    if p[1] == 'delivered' or p[2] or r[1] == 'delivered' or r[3] or r[2] ~= '1' then
      return {moved[1], 1, ''}
    end
  end
end
local schedules = 10 + 2 * looked
for i = 0, tonumber(ARGV[11]) - 1 do
  local at = 14 + 5 * i
  if redis.call('HSETNX', KEYS[5], ARGV[at], ARGV[at + 4]) == 1 then
    redis.call('EXPIRE', KEYS[5], ARGV[9])
    if redis.call('HSETNX', KEYS[6], ARGV[at + 1], ARGV[at + 2]) == 1 then
      redis.call('ZADD', KEYS[schedules + i], ARGV[at + 3], ARGV[at + 1])
      if redis.call('TTL', KEYS[6]) < 0 then
        redis.call('EXPIREAT', KEYS[6], ARGV[8])
      end
    end
    redis.call('HSET', KEYS[1], 'followed_by', ARGV[at + 4])
    local channel = string.match(ARGV[at + 1], '^[^:]*:[^:]*:([^:]*)')
    local line = string.gsub(string.gsub(ARGV[first - 1], '%%KEY%%', ARGV[at + 4]),
                             '%%CHANNEL%%', channel)
    append_story(KEYS[4], line, ARGV[6], ARGV[7])
    return {moved[1], 1, ARGV[at + 4]}
  end
end
return {moved[1], 1, ''}
