-- KEYS: the number's open questions, the callback log, then for each question answered
-- its appointment's state and its response hash, then the markers of the text that
-- answers (none for a key pressed on a call).
-- ARGV: now (ms), the callback log's oldest id to keep (ms), the answer ('confirmed' or
-- 'declined'), the channel, who answered (the number's digest), when (ISO), the number
-- of questions answered, then for each: its reference, the question as read, the SHA1 of
-- the appointment's state as read, the version asked, the location, the fingerprint of
-- what was asked, '1' if past the cancellation deadline else '0', and when the response
-- is kept (seconds); then each marker's TTL (seconds).
-- Records a patient's answer to one or more questions, only if each question and each
-- appointment's state is still as the caller read and re-checked them; else nothing,
-- and the caller reads again. The latest answer wins: an answer that changes an
-- appointment's response (or answers a newer version) is stored and logged for the
-- booking system (appointment.patient_confirmed or appointment.patient_declined); one
-- that repeats it writes nothing. Scripts run one at a time, so the last entry logged for
-- an appointment is its stored response.
-- A text already processed (one of its markers is there) writes nothing; one that
-- records, even a repeat, writes its markers with the answer.
-- Returns {'duplicate'}, {'stale'} or {'recorded', how many responses changed}.
--! include callback_log
--! include message_markers
local count, per = tonumber(ARGV[7]), 8
local first_marker = 3 + 2 * count
local markers = #KEYS - first_marker + 1
if already_processed(first_marker, markers) then
  return {'duplicate'}
end
for i = 0, count - 1 do
  local a = 8 + i * per
  if redis.call('HGET', KEYS[1], ARGV[a]) ~= ARGV[a + 1] then
    return {'stale'}
  end
  local state = redis.call('GET', KEYS[3 + 2 * i])
  if not state or redis.sha1hex(state) ~= ARGV[a + 2] then
    return {'stale'}
  end
end
local answer, channel, at = ARGV[3], ARGV[4], ARGV[6]
local changed = 0
for i = 0, count - 1 do
  local a = 8 + i * per
  local response = KEYS[4 + 2 * i]
  local held = redis.call('HMGET', response, 'answer', 'version')
  if held[1] ~= answer or held[2] ~= ARGV[a + 3] then
    redis.call('HSET', response, 'answer', answer, 'at', at, 'channel', channel,
               'version', ARGV[a + 3], 'who', ARGV[5], 'fingerprint', ARGV[a + 5],
               'late', ARGV[a + 6])
    redis.call('EXPIRE', response, ARGV[a + 7])
    log_callback(KEYS[2], ARGV[1], ARGV[2],
                 {'type', 'appointment.patient_' .. answer, 'at', at, 'reference', ARGV[a],
                  'location', ARGV[a + 4], 'version', ARGV[a + 3], 'response', answer,
                  'channel', channel, 'late', ARGV[a + 6]})
    changed = changed + 1
  end
end
mark_processed(first_marker, markers, 8 + count * per)
return {'recorded', changed}
