"""Redis edges: every key name, the appointment store, the durable schedule, the delivery
log, the opt-outs, and the Lua scripts they run (``scripts/``)."""
