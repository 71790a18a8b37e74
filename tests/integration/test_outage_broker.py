"""A worker's broker rides out a short Redis outage instead of losing its retries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dramatiq
import pytest
import redis
from dramatiq.errors import BrokerConnectionError

from notifier.actors import build_broker
from notifier.local_redis import RedisServer
from notifier.settings import Settings


def _message() -> dramatiq.Message[None]:
    return dramatiq.Message(queue_name="send", actor_name="send_message", args=(),
                            kwargs={}, options={})


def test_an_enqueue_while_redis_is_down_waits_for_it_to_come_back(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")  # not started yet: Redis is down
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:  # Redis comes back during the third pause
            server.start()

    broker = build_broker(Settings(redis_url=server.url),
                          outage_wait=dt.timedelta(seconds=30), sleep=nap)
    broker.declare_queue("send")
    try:
        broker.enqueue(_message())
        client = redis.Redis.from_url(server.url)
        assert client.hlen("notifier-dramatiq:send.msgs") == 1
        assert naps == [0.5, 0.5, 0.5]
        client.close()
    finally:
        broker.close()
        server.stop()


def test_past_its_bound_the_broker_says_connection_closed_which_a_consumer_survives(
    tmp_path: Path,
) -> None:
    server = RedisServer(tmp_path / "redis")  # never started
    naps: list[float] = []
    broker = build_broker(Settings(redis_url=server.url),
                          outage_wait=dt.timedelta(seconds=2), sleep=naps.append)
    broker.declare_queue("send")
    try:
        # Dramatiq's consumer thread restarts its consumer on a BrokerConnectionError;
        # a plain redis.ConnectionError from a retry falling due killed the thread.
        with pytest.raises(BrokerConnectionError):
            broker.enqueue(_message())
        assert naps == [0.5, 0.5, 0.5]
    finally:
        broker.close()


def test_a_delayed_message_a_consumer_thread_dropped_goes_back_on_its_delay_queue(
    tmp_path: Path,
) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    broker = build_broker(Settings(redis_url=server.url), outage_wait=dt.timedelta(seconds=2))
    broker.declare_queue("send")
    client = redis.Redis.from_url(server.url)
    try:
        broker.enqueue(_message(), delay=60_000)
        consumer = broker.consume("send.DQ", prefetch=10, timeout=100)
        held = next(consumer)
        assert held is not None
        # Dramatiq's consumer thread, after a lost connection, forgets the delayed messages
        # it held and closes its consumer without putting them back.
        consumer.close()
        assert client.llen("notifier-dramatiq:send.DQ") == 0
        again = broker.consume("send.DQ", prefetch=10, timeout=100)
        back = next(again)
        assert back is not None and back.message_id == held.message_id
        # One given back through requeue (as on a clean stop) is not given back twice.
        again.requeue([back])
        again.close()
        broker.consume("send.DQ", prefetch=10, timeout=100).close()
        assert client.llen("notifier-dramatiq:send.DQ") == 1
    finally:
        client.close()
        broker.close()
        server.stop()
