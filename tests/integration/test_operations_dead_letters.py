"""Dead letters made by real Dramatiq workers: listed safely, requeued, discarded, audited."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import dramatiq
import pytest

from notifier.domain import Channel, Kind
from notifier.names import INTAKE_QUEUE, SEND_QUEUE
from notifier.operations import dead_letters
from notifier.operations.dead_letters import (
    discard,
    list_dead,
    operator_actions,
    requeue,
    requeue_all,
)
from notifier.operations.queues import queue_depths, queue_keys
from notifier.planning.entries import PlannedMessage
from notifier.store.deliveries import DeliveryLog
from notifier.store.intake import Intake
from notifier.store.keys import Keys
from tests.factories import event, local
from tests.integration.conftest import Gateway

START = local(2026, 12, 1, 9, 30)
PATIENT_DATA = ("Émilie", "Tremblay", "+15145550188", "+15145550199",
                "emilie.tremblay@example.org", "clinical detail")
# Retries in milliseconds rather than seconds, so that a real worker exhausts them fast.
FAST_RETRIES: dict[str, Any] = {"min_backoff": 1, "max_backoff": 5}


def refused_event(gateway: Gateway, reference: str = "0000000001") -> dict[str, Any]:
    data = event("booked", start=START, at=gateway.clock(), reference=reference).model_dump(
        mode="json")
    data["appointment"]["reason_for_visit"] = "clinical detail"
    return data


def kill_intake(gateway: Gateway, count: int = 1) -> list[str]:
    """Send ``count`` events the intake actor refuses; return their event ids."""
    ids = []
    for number in range(count):
        data = refused_event(gateway, reference=f"{number + 1:010d}")
        gateway.actors.intake.send(data)
        ids.append(data["event_id"])
    gateway.drain(INTAKE_QUEUE)
    return ids


def assert_no_patient_data(value: object) -> None:
    shown = json.dumps(value, ensure_ascii=False, default=str)
    for secret in PATIENT_DATA:
        assert secret not in shown


def test_a_refused_event_is_listed_with_its_reason_and_no_patient_data(
    gateway: Gateway,
) -> None:
    (event_id,) = kill_intake(gateway)

    (letter,) = list_dead(gateway.client, gateway.settings)

    assert (letter.queue, letter.actor, letter.retries) == ("intake", "intake_event", 0)
    assert letter.summary == {"event_id": event_id, "type": "appointment.booked",
                              "reference": "0000000001"}
    assert letter.reason.startswith("InvalidEvent: appointment: reason_for_visit:")
    assert "clinical data is never accepted" in letter.reason
    assert abs(letter.failed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert letter.message_id in {
        m.decode() for m in gateway.client.zrange(queue_keys(gateway.settings, "intake").dead,
                                                  0, -1)
    }
    assert_no_patient_data(letter.to_dict())


def test_requeue_moves_the_letter_back_with_retries_reset_and_audits_it(
    gateway: Gateway,
) -> None:
    # A valid event that dies because the appointment's key is broken, after one retry.
    keys = Keys(gateway.settings.queue_prefix)
    gateway.client.rpush(keys.appointment("0000000001"), "not a snapshot")
    data = event("booked", start=START, at=gateway.clock()).model_dump(mode="json")
    gateway.actors.intake.send_with_options(args=(data,), max_retries=1, **FAST_RETRIES)
    gateway.drain(INTAKE_QUEUE)
    (letter,) = list_dead(gateway.client, gateway.settings, INTAKE_QUEUE)
    # The stored traceback is another library's: only the error's name is shown.
    assert (letter.retries, letter.reason) == (1, "ResponseError")

    gateway.client.delete(keys.appointment("0000000001"))  # the operator fixed the cause
    now = gateway.clock()
    assert requeue(gateway.client, gateway.settings, INTAKE_QUEUE, letter.message_id,
                   actor="alice", reason="fixed the broken key", now=now)

    (depth, _, _) = queue_depths(gateway.client, gateway.settings)
    assert (depth.ready, depth.dead) == (1, 0)
    qkeys = queue_keys(gateway.settings, INTAKE_QUEUE)
    (new_id,) = [m.decode() for m in gateway.client.lrange(qkeys.ready, 0, -1)]
    copy = dramatiq.Message.decode(gateway.client.hget(qkeys.messages, new_id))
    assert copy.message_id == letter.dramatiq_message_id
    assert copy.options["redis_message_id"] == new_id != letter.message_id
    assert "retries" not in copy.options and "traceback" not in copy.options

    gateway.drain(INTAKE_QUEUE)
    state = Intake(gateway.client, gateway.settings).load("0000000001")
    assert state is not None and state.version == 1
    assert list_dead(gateway.client, gateway.settings) == []

    (action,) = operator_actions(gateway.client, gateway.settings)
    assert (action.actor, action.action, action.queue, action.message_id, action.reason) == (
        "alice", "requeue", "intake", letter.message_id, "fixed the broken key")
    assert action.at == now
    assert action.summary["reference"] == "0000000001"


def test_a_letter_is_requeued_or_discarded_once(gateway: Gateway) -> None:
    kill_intake(gateway, 2)
    first, second = list_dead(gateway.client, gateway.settings)
    now = gateway.clock()

    assert requeue(gateway.client, gateway.settings, INTAKE_QUEUE, first.message_id,
                   actor="alice", reason="retry", now=now)
    assert not requeue(gateway.client, gateway.settings, INTAKE_QUEUE, first.message_id,
                       actor="bob", reason="retry", now=now)
    assert not discard(gateway.client, gateway.settings, INTAKE_QUEUE, first.message_id,
                       actor="bob", reason="clean up", now=now)
    assert discard(gateway.client, gateway.settings, INTAKE_QUEUE, second.message_id,
                   actor="bob", reason="bad event, booking system told", now=now)

    (depth, _, _) = queue_depths(gateway.client, gateway.settings)
    assert (depth.ready, depth.dead) == (1, 0)
    assert [(a.actor, a.action, a.message_id) for a in operator_actions(
        gateway.client, gateway.settings)] == [
        ("bob", "discard", second.message_id), ("alice", "requeue", first.message_id)]

    # Still invalid: the requeued event dies again, as a new dead letter.
    gateway.drain(INTAKE_QUEUE)
    (again,) = list_dead(gateway.client, gateway.settings)
    assert again.summary == first.summary and again.message_id != first.message_id


def test_requeue_all_takes_every_letter_dead_now(gateway: Gateway) -> None:
    kill_intake(gateway, 3)

    count = requeue_all(gateway.client, gateway.settings, INTAKE_QUEUE, actor="alice",
                        reason="provider outage over", now=gateway.clock())

    assert count == 3
    (depth, _, _) = queue_depths(gateway.client, gateway.settings)
    assert (depth.ready, depth.dead) == (3, 0)
    actions = operator_actions(gateway.client, gateway.settings)
    assert [a.action for a in actions] == ["requeue"] * 3
    assert {a.summary["reference"] for a in actions} == {
        "0000000001", "0000000002", "0000000003"}
    assert operator_actions(gateway.client, gateway.settings, count=2) == actions[:2]


def test_a_send_that_used_every_retry_shows_its_key_and_final_record(
    gateway: Gateway,
) -> None:
    Intake(gateway.client, gateway.settings).accept(
        event("booked", start=START, at=gateway.clock(), modes=("sms",)), gateway.clock())
    (payload,) = Intake(gateway.client, gateway.settings).schedule.claim(gateway.clock())
    message = PlannedMessage.from_json(payload)
    # Every attempt fails: the appointment's key holds the wrong type.
    keys = Keys(gateway.settings.queue_prefix)
    stored = gateway.client.get(keys.appointment("0000000001"))
    assert stored is not None
    gateway.client.delete(keys.appointment("0000000001"))
    gateway.client.rpush(keys.appointment("0000000001"), "broken")
    gateway.actors.send.send_with_options(args=(json.loads(payload),), **FAST_RETRIES)
    gateway.drain(SEND_QUEUE)

    (letter,) = list_dead(gateway.client, gateway.settings, SEND_QUEUE)

    assert letter.actor == "send_message"
    assert letter.summary == {"key": message.key, "reference": "0000000001",
                              "kind": str(Kind.CONFIRMATION), "channel": str(Channel.SMS)}
    assert letter.delivery_status == "failed"
    assert letter.reason == "ResponseError"
    assert_no_patient_data(letter.to_dict())

    # Once the cause is fixed, requeueing reopens the record and the message goes.
    gateway.client.delete(keys.appointment("0000000001"))
    gateway.client.set(keys.appointment("0000000001"), stored)
    assert requeue(gateway.client, gateway.settings, SEND_QUEUE, letter.message_id,
                   actor="alice", reason="appointment restored", now=gateway.clock())
    gateway.drain(SEND_QUEUE)
    record = DeliveryLog(gateway.client, keys=keys,
                         retention=gateway.settings.delivery_retention).get(message.key)
    assert record["status"] == "delivered" and record["reopened_by"] == "alice"
    assert [f.name for f in gateway.outbox_files()] == [f"{message.key.replace(':', '_')}.txt"]


def test_actions_need_a_known_queue_an_actor_and_a_reason(gateway: Gateway) -> None:
    now = gateway.clock()
    with pytest.raises(ValueError, match="unknown queue"):
        requeue(gateway.client, gateway.settings, "default", "x", actor="a", reason="r",
                now=now)
    with pytest.raises(ValueError, match="reason"):
        discard(gateway.client, gateway.settings, INTAKE_QUEUE, "x", actor="a", reason=" ",
                now=now)
    with pytest.raises(ValueError, match="actor"):
        requeue_all(gateway.client, gateway.settings, INTAKE_QUEUE, actor="", reason="r",
                    now=now)
    assert gateway.client.exists(dead_letters.audit_key(gateway.settings)) == 0


def test_a_stored_traceback_shows_only_what_is_safe(gateway: Gateway) -> None:
    # What Dramatiq stores after an attempt failed in another library, with a message
    # that quotes the data (as pydantic's does), and after one of ours.
    pydantic_like = (
        "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\n"
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for Event\n"
        "appointment.patient.mobile_phone\n"
        "  Input should be valid [input_value='+15145550188', input_type=str]\n"
        "    For further information visit https://errors.pydantic.dev/2/v/value_error\n"
    )
    ours = ("Traceback (most recent call last):\n  File \"x.py\", line 1, in f\n"
            "notifier.sending.Throttled: provider rate limit\n")
    keys = queue_keys(gateway.settings, INTAKE_QUEUE)
    for number, trace in enumerate((pydantic_like, ours)):
        message = dramatiq.Message(
            queue_name=INTAKE_QUEUE, actor_name="intake_event",
            args=(refused_event(gateway),), kwargs={},
            options={"retries": 1, "traceback": trace, "redis_message_id": f"dead-{number}"},
            message_timestamp=number,
        )
        gateway.client.hset(keys.dead_messages, f"dead-{number}", message.encode())
        gateway.client.zadd(keys.dead, {f"dead-{number}": 1_000 + number})

    letters = list_dead(gateway.client, gateway.settings)

    assert [letter.reason for letter in letters] == ["Throttled: provider rate limit",
                                                     "ValidationError"]
    assert_no_patient_data([letter.to_dict() for letter in letters])
