"""``notifier status`` against the tests' own Redis, in English and French, text and JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import re

import pytest
import redis

from notifier.actors import build_broker
from notifier.cli import main
from notifier.clock import utc_now
from notifier.integrators.model import EndpointState
from notifier.names import INTAKE_QUEUE
from notifier.settings import Settings
from notifier.store.callback_deliveries import CallbackDeliveries, Fate, delivery_name
from notifier.store.intake import Intake
from notifier.store.integrators import IntegratorStore
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


def troubled_callbacks(client: redis.Redis, redis_url: str) -> None:
    """Three endpoints (active, suspended, disabled); a callback due 45 minutes ago that no
    scheduler handed out, one given up, one delivered."""
    settings = Settings(redis_url=redis_url)
    now = utc_now()
    store = IntegratorStore(client, settings)
    store.add("agenda-plus", name="Agenda Plus", locations=frozenset({"plateau"}),
              actor="tests", now=now)
    active, suspended, disabled = (
        store.add_endpoint("agenda-plus", url=f"https://agenda.example/{n}",
                           types=frozenset({"message.sent"}), actor="tests", now=now)[0]
        for n in range(3))
    store.set_endpoint_state(suspended.id, EndpointState.SUSPENDED, reason="failing", now=now)
    store.set_endpoint_state(disabled.id, EndpointState.DISABLED, reason="410", now=now)
    deliveries = CallbackDeliveries(client, keys=Keys())
    deliveries.fan_out(read_cursor=None, last="1-0",
                       deliveries=[delivery_name(active.id, "evt_1-0")],
                       due=now - dt.timedelta(minutes=45))
    for event_id, fate, answer in (("evt_2-0", Fate.DEAD, "500"),
                                   ("evt_3-0", Fate.DELIVERED, "200")):
        deliveries.attempted(delivery_name(active.id, event_id), fate, now=now, answer=answer,
                             suspend_after=dt.timedelta(days=3))


def test_status_counts_callbacks_and_warns_of_late_given_up_and_suspended(
    redis_client: redis.Redis, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    running_gateway(redis_client, redis_url)
    troubled_callbacks(redis_client, redis_url)

    code = main(["status", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert main(["status"]) == 0
    english = capsys.readouterr().out
    assert main(["status", "--lang", "fr"]) == 0
    french = capsys.readouterr().out

    assert code == 0  # warnings: callbacks do not stop messages
    callbacks = summary["callbacks"]
    assert 45 * 60 <= callbacks["oldest_due_age_seconds"] < 46 * 60
    assert {k: v for k, v in callbacks.items() if not k.startswith("oldest")} == {
        "waiting": 1, "dead": 1, "delivered": 1, "failed": 1,
        "endpoints": {"active": 1, "disabled": 1, "suspended": 1}}
    assert {"callbacks_late", "callbacks_dead", "endpoints_suspended"} <= set(
        summary["warnings"])
    assert re.search(r"Callbacks\s+waiting 1 \(oldest due 45 min ago\), given up 1", english)
    assert re.search(r"Endpoints\s+active 1, disabled 1, suspended 1", english)
    assert "'notifier integrators recover'" in english
    assert "'notifier integrators endpoint test'" in english
    assert re.search(r"Avis aux intégrateurs\s+en attente 1 \(le plus ancien dû depuis "
                     r"45 min\), abandonnés 1", french)
    assert re.search(r"Points de réception\s+actifs 1, désactivés 1, suspendus 1", french)
    assert "« notifier integrators recover »" in french


def test_a_quiet_deployment_has_no_callback_warning(
    redis_client: redis.Redis, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    running_gateway(redis_client, redis_url)

    assert main(["status", "--json"]) == 0

    summary = json.loads(capsys.readouterr().out)
    assert summary["callbacks"] == {
        "waiting": 0, "oldest_due_at": None, "oldest_due_age_seconds": None, "dead": 0,
        "endpoints": {"active": 0, "disabled": 0, "suspended": 0}, "delivered": 0,
        "failed": 0}
    assert summary["warnings"] == []
