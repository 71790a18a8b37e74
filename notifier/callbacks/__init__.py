"""Callbacks: what booking systems are told about their messages and their patients'
contacts, signed and sent to their endpoints, and read back from the feed."""
