"""Decide late, check again: the send-time decision against the appointment as stored."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain import Channel, Kind
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.planning.entries import AppointmentState, Plan, PlannedMessage
from notifier.planning.plan import plan_event
from notifier.planning.send_check import Defer, Drop, Send, decide_at_send
from notifier.settings import Settings
from tests.factories import event, local

SETTINGS = Settings()
NOW = local(2026, 3, 2, 10)  # a Monday
START = local(2026, 3, 17, 9, 30)


def state_after(kind: str, *, version: int = 1, at: dt.datetime = NOW,
                previous: AppointmentState | None = None, **options: Any) -> AppointmentState:
    options.setdefault("start", START)
    outcome = plan_event(previous, frozenset(), event(kind, version=version, at=at, **options),
                         SETTINGS, at)
    assert isinstance(outcome, Plan)
    return outcome.state


BOOKED = state_after("booked")


def message(kind: Kind = Kind.CONFIRMATION, channel: Channel = Channel.SMS, *,
            version: int = 1, send_at: dt.datetime = NOW,
            deadline: dt.datetime = START, offset: int | None = None,
            start: dt.datetime = START) -> PlannedMessage:
    return PlannedMessage(reference=BOOKED.appointment.reference, kind=kind, channel=channel,
                          version=version, send_at=send_at, deadline=deadline,
                          start=start.astimezone(dt.UTC), offset_seconds=offset)


@pytest.mark.parametrize(
    ("channel", "address"),
    [
        (Channel.EMAIL, "emilie.tremblay@example.org"),
        (Channel.SMS, "+15145550188"),
        (Channel.VOICE, "+15145550199"),
    ],
)
def test_a_true_message_inside_its_window_is_sent_to_the_channels_address(
    channel: Channel, address: str
) -> None:
    assert decide_at_send(message(channel=channel), BOOKED, SETTINGS, NOW) == Send(address)


def test_an_unknown_appointment_is_dropped() -> None:
    assert decide_at_send(message(), None, SETTINGS, NOW) == Drop("unknown_appointment")


def test_at_the_deadline_it_is_too_late() -> None:
    late = message(deadline=NOW)
    assert decide_at_send(late, BOOKED, SETTINGS, NOW) == Drop("past_deadline")
    just_in_time = message(deadline=NOW + dt.timedelta(seconds=1))
    assert isinstance(decide_at_send(just_in_time, BOOKED, SETTINGS, NOW), Send)


CANCELLED = state_after("cancelled", version=2, previous=BOOKED)


@pytest.mark.parametrize(
    "kind", [Kind.CONFIRMATION, Kind.MODIFICATION, Kind.REMINDER, Kind.CONTACT_CHANGE]
)
def test_nothing_but_the_cancellation_goes_for_a_cancelled_appointment(kind: Kind) -> None:
    assert decide_at_send(message(kind, version=2), CANCELLED, SETTINGS, NOW) == Drop("cancelled")


def test_a_cancellation_goes_only_while_the_appointment_is_cancelled() -> None:
    cancellation = message(Kind.CANCELLATION, version=2)
    assert isinstance(decide_at_send(cancellation, CANCELLED, SETTINGS, NOW), Send)
    rebooked = state_after("booked", version=3, previous=CANCELLED)
    assert decide_at_send(cancellation, rebooked, SETTINGS, NOW) == Drop("no_longer_cancelled")


def test_a_reminder_for_a_start_that_moved_is_superseded() -> None:
    later = START + dt.timedelta(days=1)
    moved = state_after("modified", version=2, previous=BOOKED, start=later)
    reminder = message(Kind.REMINDER, version=1, deadline=START, offset=86400)
    assert decide_at_send(reminder, moved, SETTINGS, NOW) == Drop("superseded")
    current = dataclasses.replace(reminder, version=2, start=later.astimezone(dt.UTC))
    assert isinstance(decide_at_send(current, moved, SETTINGS, NOW), Send)


def test_a_reminder_survives_an_event_that_does_not_move_the_appointment() -> None:
    present = state_after("attendance_changed", version=2, previous=BOOKED,
                          attendance="present")
    reminder = message(Kind.REMINDER, version=1, deadline=START, offset=86400)
    assert isinstance(decide_at_send(reminder, present, SETTINGS, NOW), Send)


def test_a_modification_handed_off_before_a_newer_one_is_superseded() -> None:
    second = state_after("modified", version=2, previous=BOOKED, start=START + dt.timedelta(days=1))
    third = state_after("modified", version=3, previous=second, start=START + dt.timedelta(days=2))
    older = message(Kind.MODIFICATION, version=2)
    assert decide_at_send(older, third, SETTINGS, NOW) == Drop("superseded")
    assert isinstance(decide_at_send(dataclasses.replace(older, version=3), third, SETTINGS, NOW),
                      Send)


def test_a_confirmation_is_still_true_after_a_newer_version() -> None:
    moved = state_after("modified", version=2, previous=BOOKED, start=START + dt.timedelta(days=1))
    assert isinstance(decide_at_send(message(), moved, SETTINGS, NOW), Send)


def test_after_the_start_only_the_no_show_message_goes() -> None:
    after = START + dt.timedelta(minutes=1)
    late = message(deadline=after + dt.timedelta(days=1))
    assert decide_at_send(late, BOOKED, SETTINGS, after) == Drop("start_passed")


ABSENT_AT = START + dt.timedelta(hours=2)
ABSENT = state_after("attendance_changed", version=2, previous=BOOKED, at=ABSENT_AT,
                     attendance="absent")
NO_SHOW = message(Kind.NO_SHOW, version=2, send_at=ABSENT_AT + dt.timedelta(hours=24),
                  deadline=ABSENT_AT + dt.timedelta(hours=48))


def test_the_no_show_message_goes_after_the_start_while_the_patient_is_absent() -> None:
    assert isinstance(decide_at_send(NO_SHOW, ABSENT, SETTINGS, NO_SHOW.send_at), Send)


def test_the_no_show_message_is_dropped_when_attendance_changed_back() -> None:
    present = state_after("attendance_changed", version=3, previous=ABSENT, at=ABSENT_AT,
                          attendance="present")
    verdict = decide_at_send(NO_SHOW, present, SETTINGS, NO_SHOW.send_at)
    assert verdict == Drop("attendance_changed")


def test_the_no_show_message_is_dropped_when_the_location_turned_it_off() -> None:
    off = {**SAMPLE_LOCATION.model_dump(mode="json"), "no_show_message": False}
    now_off = state_after("attendance_changed", version=3, previous=ABSENT, at=ABSENT_AT,
                          attendance="absent", location=off)
    verdict = decide_at_send(NO_SHOW, now_off, SETTINGS, NO_SHOW.send_at)
    assert verdict == Drop("no_show_disabled")


def test_the_modes_at_send_time_win() -> None:
    email_only = state_after("contact_changed", version=2, previous=BOOKED, modes=("email",))
    verdict = decide_at_send(message(channel=Channel.SMS), email_only, SETTINGS, NOW)
    assert verdict == Drop("channel_not_chosen")
    assert isinstance(decide_at_send(message(channel=Channel.EMAIL), email_only, SETTINGS, NOW),
                      Send)


def test_outside_the_window_it_waits_for_the_next_opening() -> None:
    night = local(2026, 3, 2, 23)
    verdict = decide_at_send(message(send_at=night), BOOKED, SETTINGS, night)
    assert verdict == Defer(local(2026, 3, 3, 8).astimezone(dt.UTC))


def test_outside_the_window_it_is_dropped_when_the_opening_is_past_the_deadline() -> None:
    night = local(2026, 3, 2, 23)
    verdict = decide_at_send(message(send_at=night, deadline=local(2026, 3, 3, 8)), BOOKED,
                             SETTINGS, night)
    assert verdict == Drop("outside_window")


times = st.datetimes(min_value=dt.datetime(2026, 3, 1), max_value=dt.datetime(2026, 3, 20)).map(
    lambda naive: naive.replace(tzinfo=dt.UTC)
)


@given(st.sampled_from(list(Kind)), st.sampled_from(list(Channel)), times, times)
def test_what_is_sent_is_inside_its_window_and_before_its_deadline(
    kind: Kind, channel: Channel, now: dt.datetime, deadline: dt.datetime
) -> None:
    state = CANCELLED if kind is Kind.CANCELLATION else BOOKED
    planned = message(kind, channel, send_at=now, deadline=deadline)
    verdict = decide_at_send(planned, state, SETTINGS, now)
    zone = SAMPLE_LOCATION.zone
    if isinstance(verdict, Send):
        assert now < deadline
        assert SETTINGS.window(channel).contains(now, zone)
    elif isinstance(verdict, Defer):
        assert now < verdict.until < deadline
        assert SETTINGS.window(channel).contains(verdict.until, zone)
