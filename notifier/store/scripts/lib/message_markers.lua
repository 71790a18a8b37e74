-- The markers of an incoming text (its MessageSid, Twilio's idempotency token: see
-- notifier/store/inbound_claims.py) are written in the same step as what the text does,
-- last, so that a step that fails part way leaves none and the text's redelivery is
-- processed, and a step that completed makes any redelivery a duplicate.
-- already_processed(first, count): whether one of the count marker keys from KEYS[first]
-- is there (the text is a duplicate: write nothing).
local function already_processed(first, count)
  for i = 0, count - 1 do
    if redis.call('EXISTS', KEYS[first + i]) == 1 then
      return true
    end
  end
  return false
end

-- mark_processed(first, count, first_ttl): write the count markers from KEYS[first], each
-- for its TTL in seconds, from ARGV[first_ttl].
local function mark_processed(first, count, first_ttl)
  for i = 0, count - 1 do
    redis.call('SET', KEYS[first + i], '1', 'EX', ARGV[first_ttl + i])
  end
end
