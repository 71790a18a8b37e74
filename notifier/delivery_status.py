"""What became of a planned message: its delivery status, which only moves forward.

    submitting / retrying  <  accepted  <  sent  <  delivered | undelivered | failed | suppressed

``submitting`` means an attempt is under way (or died under way); ``retrying`` means the
last attempt certainly did not reach the provider and another will follow. Provider
callbacks arrive in any order and possibly twice: an update that would move a status back
is ignored. :class:`notifier.store.deliveries.DeliveryLog` keeps the records by this order.
"""

from __future__ import annotations

import enum


class DeliveryStatus(enum.StrEnum):
    """Where a planned message stands, as its delivery record says."""

    SUBMITTING = "submitting"
    RETRYING = "retrying"
    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


# notifier/store/scripts/delivery_advance.lua holds the same ranks: a script cannot import
# them.
RANK = {
    DeliveryStatus.SUBMITTING: 0,
    DeliveryStatus.RETRYING: 0,
    DeliveryStatus.ACCEPTED: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.UNDELIVERED: 3,
    DeliveryStatus.FAILED: 3,
    DeliveryStatus.SUPPRESSED: 3,
}
IN_FLIGHT = frozenset(s for s, rank in RANK.items() if rank == 0)
FINAL = frozenset(s for s, rank in RANK.items() if rank == 3)
# Once a provider took the message, the send step has nothing left to do.
HANDED_OVER = frozenset(s for s, rank in RANK.items() if rank >= 1)
