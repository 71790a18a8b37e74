"""The schedule, the scheduler and the send step against a real Redis and real workers."""

from __future__ import annotations

import datetime as dt
import json

from notifier.domain import Channel, Kind
from notifier.names import SEND_QUEUE
from notifier.planning.entries import PlannedMessage
from notifier.scheduler import Scheduler
from notifier.sending import SendOutcome
from notifier.sending_window import SendingWindow
from notifier.store.deliveries import DeliveryLog
from notifier.store.handoff import SendHandoff
from notifier.store.intake import Intake
from notifier.store.schedule import Schedule
from tests.factories import event, local
from tests.integration.conftest import Gateway

START = local(2026, 12, 1, 9, 30)


def test_claims_are_exclusive_until_their_lease_lapses(gateway: Gateway) -> None:
    Intake(gateway.client, gateway.settings).accept(
        event("booked", start=START, at=gateway.clock(), modes=("email",)), gateway.clock()
    )
    lease = dt.timedelta(seconds=30)
    first = Schedule(gateway.client, keys=Intake(gateway.client, gateway.settings).keys,
                     lease=lease)
    second = Schedule(gateway.client, keys=first.keys, lease=lease)
    now = gateway.clock()

    taken = first.claim(now)
    assert [PlannedMessage.from_json(p).kind for p in taken] == ["confirmation"]
    assert second.claim(now) == []
    assert second.claim(now + lease - dt.timedelta(seconds=1)) == []
    assert second.claim(now + lease) == taken  # the first scheduler never acknowledged
    second.ack(taken)
    assert first.claim(now + 2 * lease) == []
    assert first.claimed_count() == 0


def test_a_scheduler_stalled_past_its_lease_hands_nothing_off_twice(gateway: Gateway) -> None:
    intake = Intake(gateway.client, gateway.settings)
    intake.accept(event("booked", start=START, at=gateway.clock(), modes=("email",)),
                  gateway.clock())
    lease = gateway.settings.scheduler_lease
    other = Scheduler(gateway.client, gateway.settings, clock=lambda: gateway.clock() + lease)
    handed_by_other: list[int] = []

    def stall(claimed: list[str]) -> None:
        # While this scheduler stalls, its lease lapses and another scheduler takes over.
        handed_by_other.append(other.run_once())

    stalled = Scheduler(gateway.client, gateway.settings, clock=gateway.clock,
                        after_claim=stall)

    assert stalled.run_once() == 0
    assert handed_by_other == [1]
    assert gateway.client.llen(f"{gateway.broker.namespace}:{SEND_QUEUE}") == 1
    assert intake.schedule.claimed_count() == 0


def test_a_newer_plan_written_during_a_hand_off_stays_scheduled(gateway: Gateway) -> None:
    intake = Intake(gateway.client, gateway.settings)
    now = gateway.clock()
    intake.accept(event("booked", start=START, at=now, modes=("email",)), now)
    intake.schedule.ack(intake.schedule.claim(now))
    intake.accept(event("modified", version=2, start=START + dt.timedelta(days=1), at=now,
                        modes=("email",)), now)
    taken = intake.schedule.claim(now)
    assert [PlannedMessage.from_json(p).version for p in taken] == [2]

    # A second change lands while the first modification is being handed off.
    intake.accept(event("modified", version=3, start=START + dt.timedelta(days=2), at=now,
                        modes=("email",)), now)
    SendHandoff(gateway.client, keys=intake.keys).hand_off(taken)

    waiting = [m for m in intake.schedule.pending("0000000001") if m.kind is Kind.MODIFICATION]
    assert [m.version for m in waiting] == [3]
    assert [PlannedMessage.from_json(p).version for p in intake.schedule.claim(now)] == [3]


def test_booking_to_outbox_through_real_workers(gateway: Gateway) -> None:
    now = gateway.clock()
    gateway.actors.intake.send(
        event("booked", start=START, at=now, modes=("sms", "email")).model_dump(mode="json")
    )
    gateway.drain("intake")
    scheduler = Scheduler(gateway.client, gateway.settings, clock=gateway.clock)

    assert scheduler.run_once() == 2
    gateway.drain()

    files = gateway.outbox_files()
    assert len(files) == 2
    sms = next(f for f in files if "_sms_" in f.name).read_text()
    assert "Kind: confirmation" in sms and "Language: fr" in sms
    assert "Émilie" in sms and "Tremblay" not in sms
    assert "Encoding: GSM-7" in sms or "Encoding: UCS-2" in sms
    assert any(f.with_suffix(".html").exists() for f in files if "_email_" in f.name)

    # Three days before, in the morning: the first reminder goes out, once.
    gateway.clock.set(local(2026, 11, 28, 9, 30))
    assert scheduler.run_once() == 2
    gateway.drain()
    assert len(gateway.outbox_files()) == 4
    assert scheduler.run_once() == 0


def test_a_redelivered_message_is_sent_once(gateway: Gateway) -> None:
    now = gateway.clock()
    intake = Intake(gateway.client, gateway.settings)
    intake.accept(event("booked", start=START, at=now, modes=("sms",)), now)
    payload = json.loads(intake.schedule.claim(now)[0])
    step = gateway.send_step()

    assert step(payload) is SendOutcome.SENT
    assert step(payload) is SendOutcome.ALREADY_DONE
    assert len(gateway.outbox_files()) == 1
    record = DeliveryLog(gateway.client, keys=intake.keys,
                         retention=gateway.settings.event_retention).get(
        "0000000001:confirmation:sms:v1")
    assert record["status"] == "delivered" and record["attempts"] == "1"


def test_a_message_no_longer_true_is_dropped_with_its_reason(gateway: Gateway) -> None:
    now = gateway.clock()
    intake = Intake(gateway.client, gateway.settings)
    intake.accept(event("booked", start=START, at=now, modes=("email",)), now)
    gateway.clock.set(local(2026, 11, 28, 9, 30))
    # The J-3 reminder is claimed and handed off...
    taken = intake.schedule.claim(gateway.clock())
    reminder = next(json.loads(p) for p in taken
                    if PlannedMessage.from_json(p).kind is Kind.REMINDER)
    # ...then the appointment is cancelled before a worker picks it up.
    intake.accept(event("cancelled", version=2, start=START, at=gateway.clock(),
                        modes=("email",)), gateway.clock())
    step = gateway.send_step()

    assert step(reminder) is SendOutcome.SUPPRESSED
    key = PlannedMessage.from_dict(reminder).key
    record = DeliveryLog(gateway.client, keys=intake.keys,
                         retention=gateway.settings.event_retention).get(key)
    assert record["status"] == "suppressed" and record["reason"] == "cancelled"
    assert not [f for f in gateway.outbox_files() if "reminder" in f.name]


def test_a_message_outside_its_window_waits_for_it(
    redis_url: str, gateway: Gateway
) -> None:
    daytime = SendingWindow.parse("mon-sun 09:00-17:00")
    settings = gateway.settings.model_copy(update={"window_sms": daytime})
    night = local(2026, 11, 24, 23)
    gateway.clock.set(night)
    intake = Intake(gateway.client, gateway.settings)  # planned with an always-open window
    intake.accept(event("booked", start=START, at=night, modes=("sms",)), night)
    (claimed,) = intake.schedule.claim(night)
    intake.schedule.ack([claimed])
    payload = json.loads(claimed)
    step = gateway.send_step(settings)

    assert step(payload) is SendOutcome.DEFERRED
    waiting = [m for m in intake.schedule.pending("0000000001") if m.kind is Kind.CONFIRMATION]
    assert len(waiting) == 1 and waiting[0].channel is Channel.SMS
    assert waiting[0].send_at == local(2026, 11, 25, 9).astimezone(dt.UTC)
    assert gateway.outbox_files() == []


def test_an_event_during_a_hand_off_neither_doubles_nor_loses_a_reminder(
    gateway: Gateway,
) -> None:
    intake = Intake(gateway.client, gateway.settings)
    now = gateway.clock()
    intake.accept(event("booked", start=START, at=now, modes=("email",)), now)
    intake.schedule.ack(intake.schedule.claim(now))  # the confirmation left
    gateway.clock.set(local(2026, 11, 30, 9, 30))
    step = gateway.send_step()
    reminder = next(json.loads(p) for p in intake.schedule.claim(gateway.clock())
                    if PlannedMessage.from_json(p).offset_seconds == 86400)

    # The worker sends the J-1 reminder before the scheduler acknowledges it, and a
    # contact change that does not move the appointment arrives in between.
    assert step(reminder) is SendOutcome.SENT
    intake.accept(event("contact_changed", version=2, start=START, at=gateway.clock(),
                        modes=("email",), language="en"), gateway.clock())
    assert not [m for m in intake.schedule.pending("0000000001") if m.kind is Kind.REMINDER]
    assert step(reminder) is SendOutcome.ALREADY_DONE
    assert len([f for f in gateway.outbox_files() if "reminder" in f.name]) == 1


def test_a_reminder_handed_off_survives_an_event_that_does_not_move_the_appointment(
    gateway: Gateway,
) -> None:
    intake = Intake(gateway.client, gateway.settings)
    now = gateway.clock()
    intake.accept(event("booked", start=START, at=now, modes=("sms",)), now)
    gateway.clock.set(local(2026, 11, 30, 9, 30))
    taken = intake.schedule.claim(gateway.clock())
    intake.schedule.ack(taken)
    reminder = next(json.loads(p) for p in taken
                    if PlannedMessage.from_json(p).kind is Kind.REMINDER)

    intake.accept(event("attendance_changed", version=2, start=START, at=gateway.clock(),
                        modes=("sms",), attendance="present"), gateway.clock())

    assert gateway.send_step()(reminder) is SendOutcome.SENT


def test_a_move_after_the_confirmation_left_is_sent_as_a_modification(gateway: Gateway) -> None:
    intake = Intake(gateway.client, gateway.settings)
    now = gateway.clock()
    intake.accept(event("booked", start=START, at=now, modes=("email",)), now)
    confirmation = json.loads(intake.schedule.claim(now)[0])

    answer = intake.accept(event("modified", version=2, start=START + dt.timedelta(hours=2),
                                 at=now, modes=("email",)), now)

    assert [p["kind"] for p in answer.body["planned"]].count("modification") == 1
    step = gateway.send_step()
    assert step(confirmation) is SendOutcome.SENT
    assert "Kind: confirmation" in gateway.outbox_files()[0].read_text()
