-- KEYS: record, this hour's counts. ARGV: status, now, ttl seconds, counts ttl seconds,
-- then field/value pairs. See move_delivery.
--! include delivery_move
return move_delivery(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4],
                     {unpack(ARGV, 5)})
