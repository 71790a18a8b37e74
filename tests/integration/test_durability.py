"""An acknowledged ARRET survives Redis being killed right after it (config/redis.conf).

Each test starts its own redis-server (never the shared test server) with the shipped
configuration file, acknowledges an ARRET through the real webhook, SIGKILLs Redis (no
shutdown save), restarts it on the same folder and port, and reads the opt-out back. A
control run without the file shows that the same kill does lose it, so the test can fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from notifier.local_redis import RedisServer
from notifier.store.optouts import OptOutStore
from notifier.web import create_app
from tests.factories import Clock, local
from tests.integration.test_inbound_webhook import (
    PATIENT,
    TwilioSender,
    expected,
    inbound_settings,
)

pytestmark = pytest.mark.slow

REDIS_CONF = Path(__file__).parents[2] / "config" / "redis.conf"


class Restartable:
    """A private redis-server that a test can kill -9 and start again on the same data."""

    def __init__(self, workdir: Path, extra_args: tuple[str, ...]) -> None:
        self.server = RedisServer(workdir, extra_args=extra_args)

    def start(self) -> None:
        self.server.start()

    def kill(self) -> None:
        """SIGKILL: no shutdown save, no final fsync; what a crash leaves is what remains."""
        process = self.server.process
        assert process is not None
        process.kill()
        process.wait(timeout=10)
        self.server.process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.server.url)


@pytest.fixture
def durable(tmp_path: Path) -> Iterator[Restartable]:
    redis_server = Restartable(tmp_path / "durable", (str(REDIS_CONF),))
    redis_server.start()
    yield redis_server
    redis_server.server.stop()


@pytest.fixture
def volatile(tmp_path: Path) -> Iterator[Restartable]:
    redis_server = Restartable(tmp_path / "volatile", ())
    redis_server.start()
    yield redis_server
    redis_server.server.stop()


def arret_then_kill(redis_server: Restartable, tmp_path: Path) -> bool:
    """Acknowledge an ARRET, kill Redis at once, restart it: is the number opted out?"""
    settings = inbound_settings(tmp_path / "outbox")
    client = redis_server.client()
    with TestClient(
        create_app(settings, redis=client, clock=Clock(local(2026, 11, 24, 10)))
    ) as http:
        reply = TwilioSender(http).reply("ARRET")
    assert reply == expected("ARRET", settings)  # acknowledged: the patient was told
    redis_server.kill()
    client.close()

    redis_server.start()
    client = redis_server.client()
    try:
        return OptOutStore(client, settings).is_opted_out(PATIENT)
    finally:
        client.close()


def test_the_shipped_config_applies_under_the_test_servers_command_line(
    durable: Restartable,
) -> None:
    client = durable.client()
    try:
        config = client.config_get("*")
    finally:
        client.close()

    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "always"
    assert config["maxmemory-policy"] == "noeviction"


def test_an_acknowledged_arret_survives_a_redis_crash(
    durable: Restartable, tmp_path: Path
) -> None:
    assert arret_then_kill(durable, tmp_path)

    client = durable.client()
    try:
        entries = OptOutStore(client, inbound_settings(tmp_path)).audit(PATIENT)
    finally:
        client.close()
    assert [(entry.state, entry.keyword) for entry in entries] == [("opted_out", "ARRET")]


def test_without_the_config_the_same_crash_loses_it(
    volatile: Restartable, tmp_path: Path
) -> None:
    assert not arret_then_kill(volatile, tmp_path)
