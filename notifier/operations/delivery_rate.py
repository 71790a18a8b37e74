"""The delivery rate: of the messages that ended, the share that reached the patient.

An SMTP relay gives no delivery receipt: for email, ``sent`` is the good outcome.
Suppressed messages are left out: not sending was right.
"""

from __future__ import annotations

from collections.abc import Mapping

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel

SUCCESS = DeliveryStatus.DELIVERED
EMAIL_SUCCESS = DeliveryStatus.SENT
PROBLEMS = (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)


def delivery_rate(by_status: Mapping[str, int], channel: str | None = None) -> float | None:
    """delivered / (delivered + undelivered + failed), or None when nothing ended yet.

    Email's good outcome is ``sent`` (no delivery receipt over SMTP): pass
    ``channel="email"`` for one channel's counts. For counts across channels use
    :func:`rate_across`.
    """
    return rate_across({channel or "": by_status})


def rate_across(by_channel: Mapping[str, Mapping[str, int]]) -> float | None:
    """The delivery rate over several channels' status counts."""
    good = ended = 0
    for channel, counts in by_channel.items():
        success = counts.get(SUCCESS, 0)
        if channel == Channel.EMAIL:
            success += counts.get(EMAIL_SUCCESS, 0)
        good += success
        ended += success + sum(counts.get(s, 0) for s in PROBLEMS)
    return None if ended == 0 else good / ended
