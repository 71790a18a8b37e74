"""Redis edges: the appointment store, the durable schedule and the delivery log."""
