from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from notifier.actors import Actors, build_broker, declare_actors
from notifier.channels.registry import channel_clients
from notifier.names import SEND_QUEUE
from notifier.sending import SendStep
from notifier.settings import Settings
from notifier.store.optouts import OptOutStore
from tests.factories import Clock, local


@dataclass
class Gateway:
    """The gateway's Redis-side parts wired on the tests' own Redis, with a hand clock."""

    settings: Settings
    client: redis.Redis
    broker: RedisBroker
    actors: Actors
    clock: Clock
    outbox: Path

    def drain(self, queue: str = SEND_QUEUE) -> None:
        """Run a real Dramatiq worker until ``queue`` is empty."""
        worker = dramatiq.Worker(self.broker, worker_threads=2, worker_timeout=100)
        worker.start()
        try:
            self.broker.join(queue, timeout=30_000)
            worker.join()
        finally:
            worker.stop()

    def send_step(self, settings: Settings | None = None) -> SendStep:
        """A send step on the outbox, as the worker builds it."""
        settings = settings or self.settings
        return SendStep(self.client, settings,
                        channels=channel_clients(settings, clock=self.clock),
                        opt_outs=OptOutStore(self.client, settings), clock=self.clock)

    def outbox_files(self) -> list[Path]:
        return sorted(self.outbox.glob("*/*.txt"))


@pytest.fixture
def gateway_options() -> dict[str, object]:
    """Settings a test module's ``gateway`` takes besides the usual ones (override it)."""
    return {}


@pytest.fixture
def gateway(redis_url: str, outbox: Path, gateway_options: dict[str, object]) -> Iterator[Gateway]:
    settings = Settings(
        redis_url=redis_url, outbox_dir=outbox, window_sms="always", window_voice="always",
        **gateway_options,  # type: ignore[arg-type]
    )
    clock = Clock(local(2026, 11, 24, 10))
    client = redis.Redis.from_url(redis_url)
    broker = build_broker(settings)
    actors = declare_actors(
        broker, settings, redis=client, channels=channel_clients(settings, clock=clock),
        clock=clock,
    )
    yield Gateway(settings, client, broker, actors, clock, outbox)
    broker.close()
    client.close()
