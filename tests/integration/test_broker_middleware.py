"""The broker carries the part of Dramatiq's middleware the gateway uses, and only that:
retries for every retry option the actors set, and a time limit that still stops a message
that hangs."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import dramatiq
import pytest
import redis
from dramatiq.middleware import Retries, TimeLimit, TimeLimitExceeded

from notifier.actors import build_broker, declare_actors
from notifier.crash_count import CrashCount
from notifier.settings import Settings


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return Settings(redis_url=redis_url, queue_prefix="middleware")


@pytest.fixture
def broker(settings: Settings) -> Iterator[dramatiq.Broker]:
    broker = build_broker(settings)
    yield broker
    broker.close()


def kinds(broker: dramatiq.Broker) -> list[type[dramatiq.Middleware]]:
    return [type(middleware) for middleware in broker.middleware]


def test_the_broker_carries_a_time_limit_and_retries_only(settings: Settings) -> None:
    for outage_wait in (None, dt.timedelta(seconds=1)):
        broker = build_broker(settings, outage_wait=outage_wait)
        try:
            assert kinds(broker) == [TimeLimit, Retries]
        finally:
            broker.close()


def test_the_actors_add_their_crash_count_after_retries_and_set_no_option_left_out(
    broker: dramatiq.Broker, settings: Settings, redis_client: redis.Redis,
) -> None:
    actors = declare_actors(broker, settings, redis=redis_client, channels={})

    assert kinds(broker) == [TimeLimit, Retries, CrashCount]
    # Every option an actor sets is one a middleware of this broker acts on: none of them
    # is silently ignored (max_age, on_success, pipe_target... would be).
    for actor in (actors.intake, actors.send, actors.send_exhausted):
        assert set(actor.options) <= broker.actor_options, actor.actor_name


def test_a_message_that_hangs_is_stopped_by_the_time_limit(broker: dramatiq.Broker) -> None:
    stopped: list[BaseException] = []
    done = threading.Event()
    release = threading.Event()

    def hangs() -> None:
        try:
            while not release.is_set():  # a provider that never answers
                time.sleep(0.01)
        except TimeLimitExceeded as exceeded:
            stopped.append(exceeded)
            raise
        finally:
            done.set()

    actor = dramatiq.Actor(hangs, broker=broker, actor_name="hangs", queue_name="hangs",
                           priority=0, options={"time_limit": 100, "max_retries": 0})
    broker.emit_after("process_boot")  # as the dramatiq command does: starts the timer
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=20)
    worker.start()
    try:
        actor.send()
        finished = done.wait(timeout=30)
    finally:
        release.set()
        worker.stop()
    assert finished and len(stopped) == 1, "the time limit did not stop the hung message"
