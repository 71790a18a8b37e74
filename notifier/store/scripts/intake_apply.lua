-- KEYS: the event's answer, the appointment's state, its pending hash.
-- ARGV: '1' if a state was read, else '0'; the state as read ('' if none); the number of
-- pending slots read, then those slots; then the writes, each as its length followed by
-- the command's name and arguments (a name may also be one of the message index's steps,
-- lib/message_index.lua's index_steps, which then runs with those arguments).
--! include message_index
-- Runs the writes only if the event still has no answer, the state is still as read and
-- the pending hash still holds the slots read: what the plan was made from. Returns 1 if
-- it ran them, 0 if another writer came first (the caller reads and plans again).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local state = redis.call('GET', KEYS[2])
if (ARGV[1] == '1') ~= (state ~= false) or (state and state ~= ARGV[2]) then
  return 0
end
local slots = tonumber(ARGV[3])
local read = {}
for i = 4, 3 + slots do
  read[ARGV[i]] = true
end
-- HKEYS, not a lookup per slot: a lookup moves a growing hash's rehashing on, which
-- would change the order its entries are listed in.
local held = redis.call('HKEYS', KEYS[3])
if #held ~= slots then
  return 0
end
for _, slot in ipairs(held) do
  if not read[slot] then
    return 0
  end
end
local i = 4 + slots
while i <= #ARGV do
  local length = tonumber(ARGV[i])
  local step = index_steps[ARGV[i + 1]]
  if step then
    step(unpack(ARGV, i + 2, i + length))
  else
    redis.call(unpack(ARGV, i + 1, i + length))
  end
  i = i + 1 + length
end
return 1
