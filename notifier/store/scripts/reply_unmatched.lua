-- KEYS: the texts needing a human, the callback log, then the text's markers.
-- ARGV: now (ms), the callback log's oldest id to keep (ms), the needing-human stream's
-- oldest id to keep (ms), when (ISO), the channel, then the entry's field/value pairs
-- count and pairs, then each marker's TTL (seconds), then location/references pairs
-- (references comma-separated).
-- A patient's text that answers none of the number's open questions: kept for operators
-- (with its text) and logged for the booking system of each location asked
-- (reply.unmatched, without the text), with the text's markers, in one step; nothing if
-- a marker is there already (a duplicate).
-- Returns 1, or 0 for a duplicate.
--! include callback_log
--! include message_markers
local pairs_count = tonumber(ARGV[6])
local markers = #KEYS - 2
if already_processed(3, markers) then
  return 0
end
local entry = {unpack(ARGV, 7, 6 + pairs_count)}
-- The callback log's own step: ids that follow the caller's clock and only grow.
log_callback(KEYS[1], ARGV[1], ARGV[3], entry)
for i = 7 + pairs_count + markers, #ARGV, 2 do
  log_callback(KEYS[2], ARGV[1], ARGV[2],
               {'type', 'reply.unmatched', 'at', ARGV[4], 'location', ARGV[i],
                'references', ARGV[i + 1], 'channel', ARGV[5]})
end
mark_processed(3, markers, 7 + pairs_count)
return 1
