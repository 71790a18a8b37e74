"""Callbacks: what happened to a message or a contact, signed and posted to the endpoints
of the integrators it concerns."""
