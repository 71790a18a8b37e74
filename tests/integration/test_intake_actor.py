"""The Dramatiq door: the client helper, the intake actor, and what happens to bad input."""

from __future__ import annotations

import pytest

from notifier.actors import INTAKE_QUEUE
from notifier.client import EventSender, InvalidEventError
from notifier.store.intake import Intake
from tests.factories import event, local
from tests.integration.conftest import Gateway

START = local(2026, 12, 1, 9, 30)


def test_an_event_sent_with_the_client_helper_is_applied(gateway: Gateway) -> None:
    sender = EventSender(gateway.settings.redis_url or "")
    try:
        sender.send(event("booked", start=START, at=gateway.clock()).model_dump(mode="json"))
    finally:
        sender.close()
    gateway.drain(INTAKE_QUEUE)

    state = Intake(gateway.client, gateway.settings).load("0000000001")
    assert state is not None and state.version == 1


def test_the_client_helper_refuses_a_bad_event_before_enqueueing(gateway: Gateway) -> None:
    data = event("booked", start=START, at=gateway.clock()).model_dump(mode="json")
    data["appointment"]["patient"]["mobile_phone"] = "+1 514 555 01"
    sender = EventSender(gateway.settings.redis_url or "")
    try:
        with pytest.raises(InvalidEventError) as refused:
            sender.send(data)
    finally:
        sender.close()

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
