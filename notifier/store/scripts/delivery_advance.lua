-- KEYS: record, this hour's counts, the callback log. ARGV: as move_delivery takes them.
--! include delivery_move
return move_delivery(KEYS, ARGV)
