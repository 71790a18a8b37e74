"""The Dramatiq door: the client helper, the intake actor, and what happens to bad input."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from notifier.client import EventSender, InvalidEventError
from notifier.domain import Status
from notifier.names import INTAKE_QUEUE
from notifier.operations.dead_letters import list_dead
from notifier.store.intake import Intake
from tests.factories import event, local
from tests.integration.conftest import Gateway

START = local(2026, 12, 1, 9, 30)


def send_with_client(gateway: Gateway, data: dict[str, Any]) -> None:
    """``data`` sent as a booking system would, with the client helper on the gateway's clock."""
    sender = EventSender(gateway.settings.redis_url or "", clock=gateway.clock)
    try:
        sender.send(data)
    finally:
        sender.close()


def test_an_event_sent_with_the_client_helper_is_applied(gateway: Gateway) -> None:
    send_with_client(gateway,
                     event("booked", start=START, at=gateway.clock()).model_dump(mode="json"))
    gateway.drain(INTAKE_QUEUE)

    state = Intake(gateway.client, gateway.settings).load("0000000001")
    assert state is not None and state.version == 1


def test_the_client_helper_refuses_a_bad_event_before_enqueueing(gateway: Gateway) -> None:
    data = event("booked", start=START, at=gateway.clock()).model_dump(mode="json")
    data["appointment"]["patient"]["mobile_phone"] = "+1 514 555 01"
    with pytest.raises(InvalidEventError) as refused:
        send_with_client(gateway, data)

    assert refused.value.problems[0]["field"] == "appointment.patient.mobile_phone"
    assert "+1 514 555 01" not in str(refused.value)
    assert gateway.broker.client.llen(f"{gateway.broker.namespace}:{INTAKE_QUEUE}") == 0


def test_a_bad_event_message_goes_to_dead_letters_untouched(gateway: Gateway) -> None:
    data = event("booked", start=START, at=gateway.clock()).model_dump(mode="json")
    data["appointment"]["reason_for_visit"] = "clinical detail"
    gateway.actors.intake.send(data)
    gateway.drain(INTAKE_QUEUE)

    dead = gateway.broker.client.zcard(f"{gateway.broker.namespace}:{INTAKE_QUEUE}.XQ")
    assert dead == 1
    assert Intake(gateway.client, gateway.settings).load("0000000001") is None
    stored = [k.decode() for k in gateway.client.keys("notifier:*")]
    assert stored == []


def test_an_event_id_reused_for_another_event_is_dead_lettered_not_applied(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    booked = event("booked", start=START, at=gateway.clock(), event_id="evt-reused")
    send_with_client(gateway, booked.model_dump(mode="json"))
    gateway.drain(INTAKE_QUEUE)
    cancelled = event("cancelled", version=2, start=START, at=gateway.clock(),
                      event_id="evt-reused")
    caplog.set_level(logging.INFO)

    send_with_client(gateway, cancelled.model_dump(mode="json"))
    gateway.drain(INTAKE_QUEUE)

    (letter,) = list_dead(gateway.client, gateway.settings, INTAKE_QUEUE)
    assert letter.retries == 0
    assert "event_id_reused" in letter.reason
    state = Intake(gateway.client, gateway.settings).load("0000000001")
    assert state is not None and (state.version, state.appointment.status) == (1, Status.BOOKED)
    refusals = [r.getMessage() for r in caplog.records if "evt-reused" in r.getMessage()
                and r.levelno >= logging.WARNING]
    assert refusals and all("Tremblay" not in line and "+1514" not in line for line in refusals)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("appointment.start", "9999-12-31T23:59:59"),
        ("appointment.start", "0001-01-01T00:00:00+05:00"),
        ("occurred_at", "0001-01-01T00:00:00+00:00"),
        ("appointment.attendance_set_at", "9999-12-31T23:59:59+00:00"),
        ("version", "7"),
        ("appointment.patient.self_serve", "off"),
        ("appointment.location.id", "*"),
    ],
)
def test_an_event_message_breaking_the_contract_is_refused_once_not_retried(
    gateway: Gateway, path: str, value: Any
) -> None:
    data = event("booked", start=START, at=gateway.clock()).model_dump(mode="json")
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    node[last] = value

    with pytest.raises(InvalidEventError) as refused:
        send_with_client(gateway, data)
    gateway.actors.intake.send(data)  # a producer that skips the helper's check
    gateway.drain(INTAKE_QUEUE)

    assert [problem["field"] for problem in refused.value.problems] == [path]
    (letter,) = list_dead(gateway.client, gateway.settings, INTAKE_QUEUE)
    assert letter.retries == 0 and letter.reason.startswith(f"InvalidEvent: {path}:")
    assert Intake(gateway.client, gateway.settings).load("0000000001") is None


def test_a_version_jump_sent_by_message_is_dead_lettered(gateway: Gateway) -> None:
    send_with_client(gateway,
                     event("booked", start=START, at=gateway.clock()).model_dump(mode="json"))
    gateway.drain(INTAKE_QUEUE)  # two worker threads: the booking must be stored first
    send_with_client(gateway, event("modified", version=5_000_000, start=START,
                                    at=gateway.clock()).model_dump(mode="json"))
    gateway.drain(INTAKE_QUEUE)

    (letter,) = list_dead(gateway.client, gateway.settings, INTAKE_QUEUE)
    assert letter.retries == 0 and letter.reason.startswith("InvalidEvent: version:")
    state = Intake(gateway.client, gateway.settings).load("0000000001")
    assert state is not None and state.version == 1
