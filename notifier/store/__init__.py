"""Redis edges: every key name, the appointment store, the durable schedule, the delivery
log, the opt-outs, the incoming texts' claims, and the Lua scripts they run
(``scripts/``)."""
