"""Booking systems' existing imports keep working: this re-exports :mod:`notifier.event_sender`."""

from notifier.event_sender import EventSender, InvalidEventError

__all__ = ["EventSender", "InvalidEventError"]
