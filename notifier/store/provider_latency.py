"""How long each channel's provider takes to answer a send, as a histogram in Redis.

Kept in Redis, like the delivery counts, so that any web process exports the whole
deployment's figures at ``/metrics`` however many workers sent. One hash per channel:
a count per bucket (not cumulative) and the sum of the seconds; Prometheus' cumulative
buckets and the count are derived when read.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from notifier.domain import Channel
from notifier.store.decoding import text_map
from notifier.store.redis_store import RedisStore

# Upper bounds, in seconds: from a loopback answer to a provider timeout.
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_FIELDS = (*(f"le_{bound:g}" for bound in BUCKETS), "le_inf")


@dataclass(frozen=True)
class LatencyHistogram:
    """One channel's histogram.

    Parameters:
      buckets: (upper bound, how many answers took at most that long), the last bound
        ``inf``; cumulative, as Prometheus wants them.
      total: the seconds of every answer added up.
    """

    buckets: tuple[tuple[float, int], ...]
    total: float

    @property
    def count(self) -> int:
        return self.buckets[-1][1]


def bucket(seconds: float) -> str:
    """The field of a channel's hash that counts an answer taking ``seconds``."""
    return _FIELDS[bisect.bisect_left(BUCKETS, seconds)]


class ProviderLatency(RedisStore):
    """Records and reads the providers' answer times (built as a :class:`RedisStore`)."""

    def record(self, channel: Channel, seconds: float) -> None:
        """Count one answer time (an answer that came with the message handed over is
        counted by the send step's last script instead)."""
        seconds = max(0.0, seconds)
        key = self.keys.provider_latency(str(channel))
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hincrby(key, bucket(seconds), 1)
            pipe.hincrbyfloat(key, "sum", seconds)
            pipe.execute()

    def read(self) -> dict[Channel, LatencyHistogram]:
        """Every channel that has answered at least once."""
        with self.redis.pipeline(transaction=False) as pipe:
            for channel in Channel:
                pipe.hgetall(self.keys.provider_latency(str(channel)))
            raw = pipe.execute()
        histograms: dict[Channel, LatencyHistogram] = {}
        for channel, fields in zip(Channel, raw, strict=True):
            values = text_map(fields)
            if not values:
                continue
            running, buckets = 0, []
            for bound, name in zip((*BUCKETS, float("inf")), _FIELDS, strict=True):
                running += int(values.get(name, "0"))
                buckets.append((bound, running))
            histograms[channel] = LatencyHistogram(tuple(buckets),
                                                   float(values.get("sum", "0")))
        return histograms
