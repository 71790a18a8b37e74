"""Integrators: the booking systems that post events, read statuses and receive callbacks,
each for its own locations."""
