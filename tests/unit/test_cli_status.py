"""``notifier status`` against the tests' own Redis, in English and French, text and JSON."""

from __future__ import annotations

import json
import os
import re

import pytest
import redis

from notifier.actors import build_broker
from notifier.cli import main
from notifier.clock import utc_now
from notifier.names import INTAKE_QUEUE
from notifier.settings import Settings
from notifier.store.intake import Intake
from notifier.store.keys import Keys
from tests.factories import event

PATIENT_DATA = ("Émilie", "Tremblay", "+15145550188", "emilie.tremblay@example.org")


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    for name in [name for name in os.environ if name.startswith("NOTIFIER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NOTIFIER_REDIS_URL", redis_url)


def running_gateway(client: redis.Redis, redis_url: str) -> None:
    """What a running deployment leaves in Redis: a booked appointment, a scheduler's
    pass just now and a Dramatiq process's heartbeat."""
    settings = Settings(redis_url=redis_url)
    now = utc_now()
    Intake(client, settings).accept(event("booked", start=now.replace(year=now.year + 1),
                                          at=now, modes=("sms",)), now)
    client.set(Keys().scheduler_heartbeat, now.isoformat())
    broker = build_broker(settings)
    try:
        broker.do_qsize(INTAKE_QUEUE)  # any broker command records the process's heartbeat
    finally:
        broker.close()


def test_json_status_of_a_running_gateway(
    redis_client: redis.Redis, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    running_gateway(redis_client, redis_url)

    code = main(["status", "--json"])

    output = capsys.readouterr().out
    summary = json.loads(output)
    assert code == 0
    assert summary["healthy"] is True and summary["problems"] == []
    assert summary["live_workers"] == 1
    assert [q["queue"] for q in summary["queues"]] == ["intake", "send", "callbacks"]
    assert summary["schedule"]["size"] == {"email": 0, "sms": 3, "voice": 0}
    assert summary["scheduler"]["stale"] is False
    assert summary["opt_outs"] == {"sms": 0, "voice": 0, "audit": 0}
    for secret in PATIENT_DATA:
        assert secret not in output


def test_an_idle_deployment_is_unhealthy_and_says_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["status"])

    output = capsys.readouterr().out
    assert code == 1
    assert ": UNHEALTHY" in output.splitlines()[0]
    assert "No scheduler has ever finished a pass" in output
    assert "No Dramatiq worker is alive" in output
    assert "Scheduler's last pass" in output and "never" in output


def test_french_status_with_aligned_columns(
    redis_client: redis.Redis, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    running_gateway(redis_client, redis_url)
    queue = Keys().prefix + "-dramatiq:send"
    redis_client.rpush(queue, *[f"id-{n}" for n in range(1234)])  # a deep queue
    redis_client.hset(queue + ".msgs", mapping={f"id-{n}": "{}" for n in range(1234)})

    code = main(["status", "--lang", "fr"])

    output = capsys.readouterr().out
    assert code == 0
    assert "EN BON ÉTAT" in output.splitlines()[0]
    table = output.splitlines()[2:5]
    assert table[0].split()[:2] == ["Files", "prêts"]
    assert re.match(r"send\s+1\u00a0234\s", table[2])  # French thousands separator
    # Every column of numbers ends at the same place as its heading.
    ends = {len(line) for line in table}
    assert len(ends) == 1
    assert "Dernier passage du planificateur" in output
    assert "texto 3" in output


def test_status_without_redis_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOTIFIER_REDIS_URL", "redis://127.0.0.1:1/0")

    code = main(["status", "--json"])

    captured = capsys.readouterr()
    assert code == 1
    assert json.loads(captured.out) == {"healthy": False, "problems": ["redis_unreachable"]}
    assert "cannot reach Redis" in captured.err
