-- open_question(key, reference, packed, now, grace): a number's new question about one
-- appointment, in its hash of open questions (reference -> question JSON), replacing the
-- appointment's earlier one. Questions closed by now (their appointment started, 'e' in
-- epoch seconds) are dropped. The question keeps its code ('o') unless another
-- appointment's open question has it (two messages to one number at the same instant),
-- then it takes the next free one. The hash expires `grace` seconds after the latest
-- start it holds, by the caller's clock (`now`, epoch seconds).
local function open_question(key, reference, packed, now, grace)
  local entries = redis.call('HGETALL', key)
  local taken, latest = {}, 0
  for i = 1, #entries, 2 do
    local held = cjson.decode(entries[i + 1])
    if held['e'] <= now then
      redis.call('HDEL', key, entries[i])
    elseif entries[i] ~= reference then
      taken[held['o']] = true
      latest = math.max(latest, held['e'])
    end
  end
  local question = cjson.decode(packed)
  if taken[question['o']] then
    local first = tonumber(question['o']) - 100
    for step = 1, 899 do
      local code = tostring(100 + (first + step) % 900)
      if not taken[code] then
        question['o'] = code
        packed = cjson.encode(question)
        break
      end
    end
  end
  redis.call('HSET', key, reference, packed)
  redis.call('EXPIRE', key, math.max(math.max(latest, question['e']) + grace - now, 1))
end
