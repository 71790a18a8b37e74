"""A send that waited out a long provider outage still has its whole crash budget."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq.middleware import Retries

from notifier.actors import SEND_MAX_RETRIES, _retry_send, build_broker, declare_actors
from notifier.crash_count import CrashCount
from notifier.names import SEND_ACTOR
from notifier.settings import Settings

# More deliberate retries than the crash budget holds.
WAITS = SEND_MAX_RETRIES + 3


@pytest.fixture
def broker(redis_url: str) -> Iterator[dramatiq.Broker]:
    broker = build_broker(Settings(redis_url=redis_url, queue_prefix="crashcount"))
    yield broker
    broker.close()


def _run(broker: dramatiq.Broker, *, count_crashes_only: bool) -> list[str]:
    """Run a message that waits ``WAITS`` times on purpose, crashes once, then succeeds,
    on a real worker; the list of what happened to it."""
    if count_crashes_only:
        CrashCount(actors={"flaky"}).install(broker)
    happened: list[str] = []
    over = threading.Event()

    def flaky() -> None:
        if happened.count("wait") < WAITS:
            happened.append("wait")
            raise dramatiq.Retry("provider unavailable", delay=1)
        if "crash" not in happened:
            happened.append("crash")
            raise RuntimeError("Redis restarted")
        happened.append("sent")
        over.set()

    def given_up(message: dict[str, Any], retries: dict[str, Any]) -> None:
        happened.append("dead letter")
        over.set()

    dramatiq.Actor(given_up, broker=broker, actor_name="given_up", queue_name="flaky",
                   priority=0, options={})
    actor = dramatiq.Actor(flaky, broker=broker, actor_name="flaky", queue_name="flaky",
                           priority=0, options={"retry_when": _retry_send, "min_backoff": 1,
                                                "on_retry_exhausted": "given_up"})
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=20)
    worker.start()
    try:
        actor.send()
        assert over.wait(timeout=60), f"the message neither succeeded nor failed: {happened}"
    finally:
        worker.stop()
    return happened


def test_deliberate_retries_leave_the_crash_budget_whole(broker: dramatiq.Broker) -> None:
    assert _run(broker, count_crashes_only=True) == ["wait"] * WAITS + ["crash", "sent"]


def test_counted_by_dramatiq_alone_the_waits_use_up_the_crash_budget(
    broker: dramatiq.Broker,
) -> None:
    # Why CrashCount exists: Dramatiq counts each Retry, so the first crash ends it.
    assert _run(broker, count_crashes_only=False) == ["wait"] * WAITS + ["crash", "dead letter"]


def test_the_send_actor_is_declared_with_its_crash_count_after_retries(
    broker: dramatiq.Broker, redis_client: redis.Redis,
) -> None:
    declare_actors(broker, Settings(queue_prefix="crashcount"), redis=redis_client, channels={})
    kinds = [type(middleware) for middleware in broker.middleware]
    assert kinds.index(CrashCount) == kinds.index(Retries) + 1
    installed = broker.middleware[kinds.index(CrashCount)]
    assert isinstance(installed, CrashCount) and installed.actors == {SEND_ACTOR}
