-- KEYS: the record, this hour's late deliveries after a fallback, the appointment's story,
-- then the records of the family's fallbacks. ARGV: now (ISO), the counts field
-- (channel|kind|lang|location), the counts' ttl, the story's line, its longest length,
-- its ttl.
-- A 'delivered' that came after the record failed (its status stays): kept on the record
-- once (late_delivered) with a line in the story; when a fallback of the family was
-- handed to a provider already, the record is marked fallback_redundant and counted in the
-- hour's own hash of them (not the statuses' counts: it is not a status the record
-- reached). Returns 1 when counted, else 0.
--! include story_line
if redis.call('HSETNX', KEYS[1], 'late_delivered', ARGV[1]) == 0 then
  return 0
end
append_story(KEYS[3], ARGV[4], ARGV[5], ARGV[6])
local handed = {['accepted'] = true, ['sent'] = true, ['delivered'] = true,
                ['undelivered'] = true, ['failed'] = true}
for i = 4, #KEYS do
  local status = redis.call('HGET', KEYS[i], 'status')
  local provider = redis.call('HGET', KEYS[i], 'provider_id')
  if status and handed[status] and provider then
    redis.call('HSET', KEYS[1], 'fallback_redundant', '1')
    redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
    redis.call('EXPIRE', KEYS[2], ARGV[3])
    return 1
  end
end
return 0
