"""Dramatiq's Redis broker, for workers that must ride out a short Redis outage.

A worker holds its delayed messages (the send step's retries) in memory and re-enqueues
each one when it falls due. Dramatiq's Redis broker lets a refused connection escape that
re-enqueue as a plain ``redis.ConnectionError``: the consumer thread takes it for a crash,
tries to put its other delayed messages back (which fails the same way, outside any
handler) and dies. From then on the process never hands over another retry, so every
message it held waits, unacknowledged, until the worker process itself is replaced.

:class:`OutageTolerantRedisBroker` waits for Redis to come back (up to a bound) when it
enqueues or puts messages back, and past that bound raises Dramatiq's own
``ConnectionClosed``, which the consumer thread survives: it restarts its consumer.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.errors import ConnectionClosed

RETRY_PAUSE = 0.5


class OutageTolerantRedisBroker(RedisBroker):
    """A Redis broker whose enqueues and requeues wait out a short Redis outage.

    Parameters:
      outage_wait: how long one enqueue or requeue waits for Redis before giving up.
      sleep: waits a number of seconds between tries (injected by tests).
      **options: :class:`dramatiq.brokers.redis.RedisBroker`'s own options.
    """

    def __init__(
        self, *, outage_wait: dt.timedelta, sleep: Callable[[float], None] = time.sleep,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.outage_wait = outage_wait
        self.sleep = sleep

    def do_enqueue(self, queue_name: str, *args: Any) -> Any:
        return self._patiently(lambda: self._dispatch("enqueue")(queue_name, *args))

    def do_requeue(self, queue_name: str, *args: Any) -> Any:
        return self._patiently(lambda: self._dispatch("requeue")(queue_name, *args))

    def _patiently(self, command: Callable[[], Any]) -> Any:
        tries = max(1, int(self.outage_wait.total_seconds() / RETRY_PAUSE))
        failed = 0
        while True:
            try:
                return command()
            except (redis.ConnectionError, redis.TimeoutError) as error:
                failed += 1
                if failed >= tries:
                    raise ConnectionClosed(error) from None
                self.sleep(RETRY_PAUSE)
