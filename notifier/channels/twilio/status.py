"""Twilio's message and call statuses in our words (see DeliveryStatus)."""

from __future__ import annotations

from notifier.delivery_status import DeliveryStatus

_STATUSES = {
    # Messages.
    "accepted": DeliveryStatus.ACCEPTED,
    "scheduled": DeliveryStatus.ACCEPTED,
    "queued": DeliveryStatus.ACCEPTED,
    "sending": DeliveryStatus.SENT,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
    # Calls.
    "initiated": DeliveryStatus.ACCEPTED,
    "ringing": DeliveryStatus.ACCEPTED,
    "in-progress": DeliveryStatus.SENT,
    "answered": DeliveryStatus.SENT,
    "completed": DeliveryStatus.DELIVERED,
    "busy": DeliveryStatus.UNDELIVERED,
    "no-answer": DeliveryStatus.UNDELIVERED,
}


def delivery_status(twilio_status: str) -> DeliveryStatus | None:
    """None for a status we do not know (Twilio adds some over time): ignore it."""
    return _STATUSES.get(twilio_status.strip().lower())
