from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from notifier.local_redis import RedisServer, running_redis


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """A clean database on the tests' own server (flushing it is safe: we started it)."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    yield redis_server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    path = tmp_path / "outbox"
    path.mkdir()
    return path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if any callback a test's receiver got showed a patient."""
    from tests import privacy_scan
    from tests.faults.workload import FIRST_NAMES, LAST_NAMES

    names = {"Émilie", "Tremblay", *LAST_NAMES,
             *(name for names in FIRST_NAMES.values() for name in names)}
    found = privacy_scan.leaks(names)
    if found:
        print(f"\nprivacy scan: {len(found)} callback(s) of {privacy_scan.recorded()} show a "
              "patient:\n  " + "\n  ".join(found[:20]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
