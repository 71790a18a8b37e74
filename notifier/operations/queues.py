"""Dramatiq's queues as Redis holds them, the workers' heartbeats and the scheduler's.

Dramatiq's Redis broker (``dramatiq/brokers/redis/dispatch.lua``) keeps, under the
namespace ``<queue_prefix>-dramatiq``:

- ``<ns>:<queue>``: list of message ids ready to be fetched;
- ``<ns>:<queue>.msgs``: hash id -> message, for ready messages *and* those a worker has
  fetched but not yet acknowledged (prefetched or running);
- ``<ns>:<queue>.DQ`` / ``.DQ.msgs``: the delay queue (our retries), same shape; delayed
  messages a worker holds in memory until due stay in ``.DQ.msgs``;
- ``<ns>:<queue>.XQ`` / ``.XQ.msgs``: dead letters, a sorted set scored by the time
  (ms) they died, kept 7 days;
- ``<ns>:__heartbeats__``: sorted set broker id -> last command time (ms).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from redis import Redis

from notifier.names import QUEUES, broker_namespace
from notifier.operations.times import require_aware
from notifier.settings import Settings
from notifier.store.decoding import text
from notifier.store.keys import Keys


@dataclass(frozen=True)
class QueueKeys:
    """Redis key names of one Dramatiq queue.

    Parameters:
      namespace: the broker's namespace.
      queue: the queue's name (``intake`` or ``send``).
    """

    namespace: str
    queue: str

    @property
    def ready(self) -> str:
        return f"{self.namespace}:{self.queue}"

    @property
    def messages(self) -> str:
        return f"{self.ready}.msgs"

    @property
    def delayed(self) -> str:
        return f"{self.ready}.DQ.msgs"

    @property
    def dead(self) -> str:
        return f"{self.ready}.XQ"

    @property
    def dead_messages(self) -> str:
        return f"{self.ready}.XQ.msgs"


def queue_keys(settings: Settings, queue: str) -> QueueKeys:
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; the queues are {', '.join(QUEUES)}")
    return QueueKeys(broker_namespace(settings.queue_prefix), queue)


@dataclass(frozen=True)
class QueueDepth:
    """How many messages one Dramatiq queue holds, by state.

    Parameters:
      queue: the queue's name.
      ready: waiting for a worker.
      delayed: waiting for their retry delay to pass.
      dead: dead letters (failed for good; kept 7 days).
      in_flight: fetched by a worker and not yet acknowledged (prefetched or running,
        or held by a worker that died, until Dramatiq's maintenance gives them back).
    """

    queue: str
    ready: int
    delayed: int
    dead: int
    in_flight: int

    def to_dict(self) -> dict[str, Any]:
        return {"queue": self.queue, "ready": self.ready, "delayed": self.delayed,
                "dead": self.dead, "in_flight": self.in_flight}


def queue_depths(redis: Redis, settings: Settings) -> list[QueueDepth]:
    """Depth of each queue, read in one transaction (so ``in_flight``, a difference of
    two counts, is consistent). O(1) per queue, whatever the queues hold."""
    with redis.pipeline(transaction=True) as pipe:
        for queue in QUEUES:
            keys = queue_keys(settings, queue)
            pipe.llen(keys.ready)
            pipe.hlen(keys.messages)
            pipe.hlen(keys.delayed)
            pipe.zcard(keys.dead)
        counts = [int(n) for n in pipe.execute()]
    depths = []
    for index, queue in enumerate(QUEUES):
        ready, stored, delayed, dead = counts[index * 4:index * 4 + 4]
        depths.append(QueueDepth(queue=queue, ready=ready, delayed=delayed, dead=dead,
                                 in_flight=max(0, stored - ready)))
    return depths


def live_workers(
    redis: Redis,
    settings: Settings,
    now: dt.datetime,
    *,
    timeout: dt.timedelta | None = None,
) -> int:
    """Dramatiq processes seen within the broker's heartbeat timeout
    (``settings.worker_heartbeat_timeout``, as ``build_broker`` gives the broker, unless
    ``timeout`` is given).

    Dramatiq records a heartbeat on every broker command of a process, so a process that
    only enqueues through Dramatiq (a booking system's ``EventSender``) counts while it is
    enqueueing; the scheduler writes its messages with its own script and never counts;
    an idle worker polls its queues every second or so and always counts.
    """
    window = settings.worker_heartbeat_timeout if timeout is None else timeout
    since_ms = (require_aware(now).timestamp() - window.total_seconds()) * 1000
    heartbeats = f"{broker_namespace(settings.queue_prefix)}:__heartbeats__"
    return int(redis.zcount(heartbeats, since_ms, "+inf"))


def scheduler_last_run(redis: Redis, settings: Settings) -> dt.datetime | None:
    """When a scheduler last finished a pass (aware UTC), or None if none ever did."""
    raw = redis.get(Keys(settings.queue_prefix).scheduler_heartbeat)
    if raw is None:
        return None
    try:
        return dt.datetime.fromisoformat(text(raw)).astimezone(dt.UTC)
    except ValueError:
        return None
