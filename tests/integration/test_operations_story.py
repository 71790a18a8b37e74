"""An appointment's story after real workers booked it and sent its confirmation."""

from __future__ import annotations

import datetime as dt
import json

from notifier.names import INTAKE_QUEUE
from notifier.operations.story import appointment_story
from notifier.scheduler import Scheduler
from tests.factories import event, local
from tests.integration.conftest import Gateway

START = local(2026, 12, 1, 9, 30)
PATIENT_DATA = ("Émilie", "Tremblay", "+15145550188", "+15145550199",
                "emilie.tremblay@example.org", "Catherine Roy")


def test_the_story_of_a_booked_then_sent_appointment(gateway: Gateway) -> None:
    booked = event("booked", start=START, at=gateway.clock(), modes=("sms", "email"))
    gateway.actors.intake.send(booked.model_dump(mode="json"))
    gateway.drain(INTAKE_QUEUE)
    Scheduler(gateway.client, gateway.settings, clock=gateway.clock).run_once()
    gateway.clock.advance(dt.timedelta(seconds=5))
    gateway.drain()

    story = appointment_story(gateway.client, gateway.settings, "0000000001")

    assert story is not None
    assert story.location == booked.appointment.location.id
    assert [(e.source, e.what, e.details.get("channel")) for e in story.entries] == [
        ("history", "event", None),
        ("history", "sent", "email"), ("delivery", "delivery", "email"),
        ("history", "sent", "sms"), ("delivery", "delivery", "sms"),
        ("pending", "pending", "email"), ("pending", "pending", "sms"),
        ("pending", "pending", "email"), ("pending", "pending", "sms"),
    ]
    times = [e.at for e in story.entries]
    assert times == sorted(times)
    first = story.entries[0]
    assert first.details["event_id"] == booked.event_id
    assert first.details["type"] == "appointment.booked" and first.details["version"] == 1
    deliveries = [e for e in story.entries if e.source == "delivery"]
    assert {e.details["status"] for e in deliveries} == {"delivered"}  # the outbox
    assert {e.details["location"] for e in deliveries} == {booked.appointment.location.id}
    sent_keys = {e.key for e in story.entries if e.what == "sent"}
    assert {e.key for e in deliveries} == sent_keys
    reminders = [e for e in story.entries if e.what == "pending"]
    assert {e.details["kind"] for e in reminders} == {"reminder"}
    assert len(reminders) == 4  # J-3 and J-1, by SMS and email

    facts = story.appointment
    assert facts is not None
    assert (facts["version"], facts["status"], facts["modes"]) == (1, "booked", ["email", "sms"])
    assert facts["addresses"]["sms"].endswith("188") and "•" in facts["addresses"]["sms"]
    shown = json.dumps(story.to_dict(), ensure_ascii=False)
    for secret in PATIENT_DATA:
        assert secret not in shown


def test_an_unknown_reference_has_no_story(gateway: Gateway) -> None:
    assert appointment_story(gateway.client, gateway.settings, "0000000404") is None
