"""Provider throughput limits shared by every worker: a reservation limiter in Redis.

Each send reserves its slot in time (cost = SMS segments, or 1 call) on a per-sender
timeline; the caller waits until its slot, or, when the slot is further away than it may
wait, gives the message back to be retried then, without using up a retry. The
reservation is made by the send step's last checks before the provider is called
(``send_begin``, :meth:`notifier.store.send_records.SendRecords.begin`), in the same
round trip as the opt-out check and the record's move to ``submitting``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class RateSlot:
    """One reservation asked of a sender's timeline, in the script's units.

    Parameters:
      key: the Redis key of the sender's timeline.
      now_ms: now, in ms since the epoch.
      cost_ms: how much of the timeline the send takes, in ms.
      longest_wait_ms: the longest the caller may wait in-process for its slot.
    """

    key: str
    now_ms: int
    cost_ms: int
    longest_wait_ms: int


class RateLimiter:
    """Limits one sender to ``per_second`` units (SMS segments, calls) per second.

    Parameters:
      key: the Redis key of this sender's timeline.
      per_second: units per second.
      max_wait: the longest a caller should wait in-process for its slot.
    """

    def __init__(self, key: str, *, per_second: float, max_wait: dt.timedelta) -> None:
        self.key = key
        self.unit_ms = 1000.0 / per_second
        self.max_wait_ms = int(max_wait.total_seconds() * 1000)

    def slot(self, cost: int, now: dt.datetime) -> RateSlot:
        """The reservation of ``cost`` units at ``now``."""
        return RateSlot(self.key, int(now.timestamp() * 1000), math.ceil(cost * self.unit_ms),
                        self.max_wait_ms)
