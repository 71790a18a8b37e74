"""Provider throughput limits shared by every worker: a reservation limiter in Redis.

Each send reserves its slot in time (cost = SMS segments, or 1 call) on a per-sender
timeline; the caller waits until its slot, or, when the slot is further away than it may
wait, gives the message back to be retried then, without using up a retry.
"""

from __future__ import annotations

import datetime as dt
import math

from redis import Redis

from notifier.store.lua import load_script


class RateLimiter:
    """Limits one sender to ``per_second`` units (SMS segments, calls) per second.

    Parameters:
      redis: a redis-py client.
      key: the Redis key of this sender's timeline.
      per_second: units per second.
      max_wait: the longest a caller should wait in-process for its slot.
    """

    def __init__(
        self, redis: Redis, key: str, *, per_second: float, max_wait: dt.timedelta
    ) -> None:
        self.key = key
        self.unit_ms = 1000.0 / per_second
        self.max_wait_ms = int(max_wait.total_seconds() * 1000)
        self._reserve = load_script(redis, "rate_reserve")

    def reserve(self, cost: int, now: dt.datetime) -> float:
        """Reserve ``cost`` units. Returns seconds to wait before sending (>= 0) when
        reserved, or a negative number of seconds (how long until a slot) when not."""
        now_ms = int(now.timestamp() * 1000)
        waited = int(
            self._reserve(
                keys=[self.key],
                args=[now_ms, math.ceil(cost * self.unit_ms), self.max_wait_ms],
            )
        )
        return waited / 1000.0
