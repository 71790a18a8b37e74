-- KEYS: attempt lock, delivery record, appointment, the patient's response to it.
-- ARGV: lock ttl ms.
-- An attempt's first round trip: the record and the appointment as they are now, and the
-- right to attempt the message, taken only while no provider has it (the record is new,
-- submitting or retrying). The reads come first: a key that cannot be read (the wrong
-- type) fails the script before it takes the lock. Returns {1 if the lock was taken else
-- 0, the record's field/value pairs, the appointment's JSON or false, the response's
-- field/value pairs}.
local record = redis.call('HGETALL', KEYS[2])
local appointment = redis.call('GET', KEYS[3])
local response = redis.call('HGETALL', KEYS[4])
local status = redis.call('HGET', KEYS[2], 'status')
local locked = 0
if (not status or status == 'submitting' or status == 'retrying')
    and redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  locked = 1
end
return {locked, record, appointment, response}
