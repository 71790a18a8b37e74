"""Intake against a real Redis: dedupe, ordering, atomic replacement of the schedule."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import redis

from notifier.domain import Channel, Event, Kind
from notifier.settings import Settings
from notifier.store.history import History
from notifier.store.intake import Intake
from tests.factories import event, local

SETTINGS = Settings(window_sms="always", window_voice="always")
NOW = local(2026, 11, 24, 10)
START = local(2026, 12, 1, 9, 30)


def pending_kinds(intake: Intake, reference: str = "0000000001") -> set[tuple[Kind, Channel]]:
    return {(m.kind, m.channel) for m in intake.schedule.pending(reference)}


def test_a_booking_schedules_its_confirmation_and_reminders(redis_client: redis.Redis) -> None:
    intake = Intake(redis_client, SETTINGS)
    answer = intake.accept(event("booked", start=START, at=NOW, modes=("sms", "email")), NOW)

    assert answer.status_code == 202
    assert answer.body["status"] == "accepted"
    kinds = pending_kinds(intake)
    assert kinds == {
        (Kind.CONFIRMATION, Channel.SMS), (Kind.CONFIRMATION, Channel.EMAIL),
        (Kind.REMINDER, Channel.SMS), (Kind.REMINDER, Channel.EMAIL),
    }
    reminders = [m for m in intake.schedule.pending("0000000001") if m.kind is Kind.REMINDER]
    assert sorted(m.offset_seconds or 0 for m in reminders) == [86400, 86400, 259200, 259200]
    assert intake.schedule.size() == 6
    stored = intake.load("0000000001")
    assert stored is not None and stored.version == 1


def test_the_same_event_twice_is_applied_once_and_answered_the_same(
    redis_client: redis.Redis,
) -> None:
    intake = Intake(redis_client, SETTINGS)
    booked = event("booked", start=START, at=NOW, event_id="evt-1")
    first = intake.accept(booked, NOW)
    second = intake.accept(booked, NOW + dt.timedelta(minutes=5))

    assert second == first
    assert intake.schedule.size() == len(first.body["planned"])
    events = [line for line in History(redis_client, keys=intake.keys,
                                       retention=SETTINGS.event_retention).read("0000000001")
              if line["what"] == "event"]
    assert len(events) == 1


def test_an_older_version_is_ignored_and_reported(redis_client: redis.Redis) -> None:
    intake = Intake(redis_client, SETTINGS)
    intake.accept(event("modified", version=3, start=START, at=NOW), NOW)
    before = intake.schedule.pending("0000000001")

    late = intake.accept(
        event("modified", version=2, start=START + dt.timedelta(days=1), at=NOW), NOW
    )

    assert late.status_code == 200
    assert late.body["status"] == "ignored"
    assert late.body["reason"] == "stale_version"
    assert late.body["stored_version"] == 3
    state = intake.load("0000000001")
    assert state is not None and state.version == 3 and state.appointment.start == START
    assert intake.schedule.pending("0000000001") == before


def test_a_modification_replaces_the_reminders(redis_client: redis.Redis) -> None:
    intake = Intake(redis_client, SETTINGS)
    intake.accept(event("booked", start=START, at=NOW, modes=("email",)), NOW)
    later = START + dt.timedelta(days=2)

    intake.accept(event("modified", version=2, start=later, at=NOW, modes=("email",)), NOW)

    reminders = [m for m in intake.schedule.pending("0000000001") if m.kind is Kind.REMINDER]
    assert len(reminders) == 2
    assert {m.version for m in reminders} == {2}
    assert {m.send_at for m in reminders} == {
        (later - dt.timedelta(days=3)).astimezone(dt.UTC),
        (later - dt.timedelta(days=1)).astimezone(dt.UTC),
    }
    assert intake.schedule.size() == 3  # two reminders and the pending confirmation


def test_a_cancellation_withdraws_everything_pending(redis_client: redis.Redis) -> None:
    intake = Intake(redis_client, SETTINGS)
    intake.accept(event("booked", start=START, at=NOW, modes=("sms",)), NOW)

    answer = intake.accept(event("cancelled", version=2, start=START, at=NOW, modes=("sms",)), NOW)

    assert answer.status_code == 202
    assert pending_kinds(intake) == {(Kind.CANCELLATION, Channel.SMS)}
    assert intake.schedule.size() == 1


def test_an_event_refused_by_planning_rules_stores_its_decision(
    redis_client: redis.Redis,
) -> None:
    intake = Intake(redis_client, SETTINGS)
    past = NOW - dt.timedelta(hours=1)

    answer = intake.accept(event("booked", start=past, at=NOW, modes=("email",)), NOW)

    assert answer.body["planned"] == []
    assert {s["reason"] for s in answer.body["skipped"]} == {"start_in_past"}
    assert intake.schedule.size() == 0


def test_an_answer_stored_without_a_fingerprint_still_answers_its_repeat(
    redis_client: redis.Redis,
) -> None:
    # Answers written before fingerprints were kept: a repeat is answered as before.
    intake = Intake(redis_client, SETTINGS)
    booked = event("booked", start=START, at=NOW, event_id="evt-old")
    first = intake.accept(booked, NOW)
    redis_client.set(intake.keys.event("evt-old"),
                     json.dumps({"status_code": first.status_code, "body": first.body}))

    again = intake.accept(booked, NOW)

    assert (again.status_code, again.body) == (first.status_code, first.body)


class CountingConnection(redis.Connection):
    """A real connection that counts the times it sends: a pipeline sends once, so each
    send is one round trip."""

    sends = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sends += 1
        super().send_packed_command(command, check_health)


def test_an_event_is_read_and_stored_in_two_round_trips(redis_url: str) -> None:
    pool = redis.ConnectionPool.from_url(redis_url, connection_class=CountingConnection)
    intake = Intake(redis.Redis(connection_pool=pool), SETTINGS)
    # The connection is open and Redis knows the script by now.
    intake.accept(event("booked", start=START, at=NOW, reference="0000000002"), NOW)
    before = CountingConnection.sends

    answer = intake.accept(event("booked", start=START, at=NOW), NOW)

    assert CountingConnection.sends - before == 2
    assert answer.body["status"] == "accepted"
    pool.disconnect()


class OvertakenIntake(Intake):
    """An intake that another writer overtakes once, between its read and its write."""

    def __init__(self, redis_client: redis.Redis, *, rival: Event) -> None:
        super().__init__(redis_client, SETTINGS)
        self.rivals = [rival]

    def _read(self, *keys: str) -> tuple[bytes | str | None, bytes | str | None,
                                         frozenset[str]]:
        read = super()._read(*keys)
        while self.rivals:
            Intake(self.redis, SETTINGS).accept(self.rivals.pop(), NOW)
        return read


def test_a_writer_overtaken_on_its_appointment_plans_again(redis_client: redis.Redis) -> None:
    Intake(redis_client, SETTINGS).accept(event("booked", start=START, at=NOW), NOW)
    moved = START + dt.timedelta(days=2)
    rival = event("modified", version=3, start=moved, at=NOW)
    intake = OvertakenIntake(redis_client, rival=rival)

    late = intake.accept(event("modified", version=2, start=START + dt.timedelta(days=1),
                               at=NOW), NOW)

    assert (late.body["status"], late.body["reason"]) == ("ignored", "stale_version")
    state = intake.load("0000000001")
    assert state is not None and (state.version, state.appointment.start) == (3, moved)
    reminders = [m for m in intake.schedule.pending("0000000001") if m.kind is Kind.REMINDER]
    assert reminders and {m.start for m in reminders} == {moved}


def test_a_writer_overtaken_by_the_same_event_answers_what_was_stored(
    redis_client: redis.Redis,
) -> None:
    booked = event("booked", start=START, at=NOW, event_id="evt-raced")
    intake = OvertakenIntake(redis_client, rival=booked)

    answer = intake.accept(booked, NOW)

    assert answer == Intake(redis_client, SETTINGS).accept(booked, NOW)
    events = [line for line in History(redis_client, keys=intake.keys,
                                       retention=SETTINGS.event_retention).read("0000000001")
              if line["what"] == "event"]
    assert len(events) == 1
    assert intake.schedule.size() == len(answer.body["planned"])
