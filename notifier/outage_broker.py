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

That restart has a cost of its own: Dramatiq's consumer thread drops every delayed message
it holds in memory when its consumer loses the connection (a fetch while Redis is down).
Each one stays listed in Redis as held, unacknowledged, by this process, whose heartbeat
goes on: Dramatiq's maintenance gives a worker's messages back only once its heartbeat
stops, so they would wait until the process is replaced. The broker's delay-queue
consumers therefore remember the messages they hand over; the ones never acknowledged,
rejected or put back by the time the consumer closes are the dropped ones, and the next
consumer of that queue puts them back on it first.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from dramatiq.broker import Consumer, MessageProxy
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name
from dramatiq.errors import ConnectionClosed
from redis import ConnectionError as RedisConnectionError
from redis import TimeoutError as RedisTimeoutError

RETRY_PAUSE = 0.5
T = TypeVar("T")


def when_redis_answers(
    command: Callable[[], T], *, within: dt.timedelta, sleep: Callable[[float], None],
) -> T:
    """``command()``, tried again every :data:`RETRY_PAUSE` while Redis cannot be reached,
    for up to ``within``; past that, the last ``redis.ConnectionError`` (or
    ``TimeoutError``) is raised."""
    for _ in range(max(1, int(within.total_seconds() / RETRY_PAUSE)) - 1):
        try:
            return command()
        except (RedisConnectionError, RedisTimeoutError):
            sleep(RETRY_PAUSE)
    return command()


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
        # Per delay queue: Redis ids of messages a closed consumer's thread dropped.
        self.dropped: dict[str, set[str]] = {}

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Consumer:
        consumer = super().consume(queue_name, prefetch=prefetch, timeout=timeout)
        if queue_name != dq_name(queue_name):
            return consumer  # its messages wait in the worker's queue, which a restart keeps
        dropped = self.dropped.setdefault(queue_name, set())
        if dropped:
            # Raises ConnectionClosed while Redis is still down: the thread tries again.
            self.do_requeue(queue_name, *sorted(dropped))
            dropped.clear()
        return _DelayedMessagesConsumer(consumer, dropped=dropped)

    def do_enqueue(self, queue_name: str, *args: Any) -> Any:
        return self._patiently(lambda: self._dispatch("enqueue")(queue_name, *args))

    def do_requeue(self, queue_name: str, *args: Any) -> Any:
        return self._patiently(lambda: self._dispatch("requeue")(queue_name, *args))

    def _patiently(self, command: Callable[[], Any]) -> Any:
        try:
            return when_redis_answers(command, within=self.outage_wait, sleep=self.sleep)
        except (RedisConnectionError, RedisTimeoutError) as error:
            raise ConnectionClosed(error) from None


class _DelayedMessagesConsumer(Consumer):
    """A delay queue's consumer that remembers the delayed messages it hands to its thread.

    Parameters:
      consumer: Dramatiq's own consumer of the delay queue.
      dropped: where :meth:`close` adds the Redis ids of the messages handed over and
        never acknowledged, rejected or put back: the ones the thread dropped.
    """

    def __init__(self, consumer: Consumer, *, dropped: set[str]) -> None:
        self.consumer = consumer
        self.dropped = dropped
        self.handed: dict[str, str] = {}  # message id -> Redis message id

    def __next__(self) -> MessageProxy | None:
        message = next(self.consumer)
        # A message without an eta goes to the worker threads, which outlive a restart.
        if message is not None and message.options.get("eta") is not None:
            self.handed[message.message_id] = message.options["redis_message_id"]
        return message

    def ack(self, message: MessageProxy) -> None:
        self.handed.pop(message.message_id, None)
        self.consumer.ack(message)

    def nack(self, message: MessageProxy) -> None:
        self.handed.pop(message.message_id, None)
        self.consumer.nack(message)

    def requeue(self, messages: Iterable[MessageProxy]) -> None:
        given_back = list(messages)
        self.consumer.requeue(given_back)
        for message in given_back:
            self.handed.pop(message.message_id, None)

    def close(self) -> None:
        self.dropped.update(self.handed.values())
        self.handed.clear()
        self.consumer.close()
