"""Which Redis the gateway writes to, and how well what it acknowledges is replicated:
for ``notifier status`` and the console's overview.

The replicas that acknowledge are counted, not assumed: a marker is written and a
``WAIT`` on the same connection, bounded by :data:`ACK_PROBE`, counts the replicas that
hold it, exactly as an acknowledged write would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.sentinel import SentinelConnectionPool

from notifier.settings import Settings
from notifier.store.connect import sentinel_view
from notifier.store.keys import Keys
from notifier.store.replication import Replication

ACK_PROBE = dt.timedelta(milliseconds=100)


@dataclass(frozen=True)
class RedisTopology:
    """The Redis primary this process reaches, and its replicas.

    Parameters:
      primary: the primary's ``host:port``.
      service: the Sentinel service it was found through, or None for a plain URL.
      sentinels_answering: how many sentinels answered (None without Sentinel).
      sentinels_listed: how many ``NOTIFIER_REDIS_SENTINELS`` lists.
      replicas: replicas connected to the primary.
      acknowledged: how many of them held a write made now within :data:`ACK_PROBE`.
      required: how many an acknowledged write waits for (``NOTIFIER_REDIS_WAIT_REPLICAS``).
      lag_seconds: each replica's seconds since its last acknowledgement.
    """

    primary: str
    service: str | None
    sentinels_answering: int | None
    sentinels_listed: int
    replicas: int
    acknowledged: int
    required: int
    lag_seconds: tuple[int, ...]

    @property
    def short(self) -> bool:
        """Fewer replicas acknowledge than an acknowledged write needs: events, opt-outs
        and sends are refused until they do."""
        return self.acknowledged < self.required

    def to_dict(self) -> dict[str, Any]:
        return {
            "primary": self.primary, "sentinel_service": self.service,
            "sentinels": None if self.sentinels_answering is None else {
                "answering": self.sentinels_answering, "listed": self.sentinels_listed},
            "replicas": {"connected": self.replicas, "acknowledged": self.acknowledged,
                         "required": self.required, "lag_seconds": list(self.lag_seconds)},
        }


def redis_topology(redis: Redis, settings: Settings) -> RedisTopology:
    """Read the topology: the primary's ``INFO replication``, one marker and ``WAIT``
    (at most :data:`ACK_PROBE`), and through Sentinel each sentinel's view.

    Raises:
      redis.RedisError: when the primary does not answer.
    """
    info = redis.info("replication")
    replicas = [value for key, value in info.items()
                if key.startswith("slave") and isinstance(value, dict)]
    acknowledged = 0
    if replicas:
        with redis.pipeline(transaction=False) as pipe:
            pipe.incr(Keys(settings.queue_prefix).replication_mark)
            pipe.wait(len(replicas), int(ACK_PROBE.total_seconds() * 1000))
            _, acknowledged = pipe.execute()
    pool = redis.connection_pool
    service, answering = None, None
    if isinstance(pool, SentinelConnectionPool):
        # One question to each sentinel gives both who answers and the primary.
        service = settings.redis_sentinel_service
        view = sentinel_view(pool.sentinel_manager, service)
        answering = view.answered
        # No sentinel names one: redis-py's own discovery raises, as for Redis down.
        primary = view.primary or "{}:{}".format(*pool.get_master_address())
    else:
        kwargs = pool.connection_kwargs
        primary = f"{kwargs.get('host')}:{kwargs.get('port')}"
    return RedisTopology(
        primary=primary, service=service, sentinels_answering=answering,
        sentinels_listed=len(settings.redis_sentinels), replicas=len(replicas),
        acknowledged=int(acknowledged), required=Replication.of(redis, settings).required(),
        lag_seconds=tuple(int(replica.get("lag", 0)) for replica in replicas))
