"""Redis edges: every key name, the appointment store, the durable schedule, the delivery
log, what one send reads and records across them, the opt-outs, the incoming texts'
claims, and the Lua scripts they run (``scripts/``)."""
