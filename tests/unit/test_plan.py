"""Planning rules (what is sent, and when), one event at a time, no Redis."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from notifier.domain import Attendance, Channel, Event, Kind
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.planning.entries import AppointmentState, Plan, PlannedMessage
from notifier.planning.plan import Ignored, next_state, plan_event, reminder_due
from notifier.settings import Settings
from tests.factories import ZONE, event, local

SETTINGS = Settings()
ALL = (Channel.EMAIL, Channel.SMS, Channel.VOICE)
J3, J1 = 3 * 86400, 86400


def plan(
    event: Event,
    now: dt.datetime,
    previous: AppointmentState | None = None,
    pending: frozenset[str] = frozenset(),
    settings: Settings = SETTINGS,
) -> Plan:
    outcome = plan_event(previous, pending, event, settings, now)
    assert isinstance(outcome, Plan)
    return outcome


def by_slot(result: Plan) -> dict[tuple[Kind, Channel, int | None], PlannedMessage]:
    return {(m.kind, m.channel, m.offset_seconds): m for m in result.upserts}


def skips(result: Plan) -> set[tuple[Kind, Channel | None, str]]:
    return {(s.kind, s.channel, s.reason) for s in result.skipped}


def slots(result: Plan) -> frozenset[str]:
    return frozenset(m.slot for m in result.upserts)


def location(**changes: Any) -> dict[str, Any]:
    return {**SAMPLE_LOCATION.model_dump(mode="json"), **changes}


# Monday 2 March 2026, 10:00 in Montréal; the appointment is Tuesday 17 March at 09:30.
NOW = local(2026, 3, 2, 10)
START = local(2026, 3, 17, 9, 30)


def booked(**options: Any) -> Plan:
    options.setdefault("start", START)
    return plan(event("booked", at=NOW, **options), NOW)


# -- confirmation -----------------------------------------------------------------------


def test_booking_confirms_now_on_every_chosen_mode_with_the_start_as_deadline() -> None:
    result = booked()
    planned = by_slot(result)
    for channel in ALL:
        confirmation = planned[Kind.CONFIRMATION, channel, None]
        assert confirmation.send_at == NOW
        assert confirmation.deadline == START
        assert confirmation.version == 1
        assert confirmation.send_at.utcoffset() == dt.timedelta(0)
    assert result.skipped == ()
    assert result.removals == frozenset()


def test_booking_at_night_waits_for_each_channels_hours() -> None:
    night = local(2026, 3, 6, 23, 15)  # a Friday
    result = plan(event("booked", start=START, at=night), night)
    planned = by_slot(result)
    assert planned[Kind.CONFIRMATION, Channel.EMAIL, None].send_at == night
    assert planned[Kind.CONFIRMATION, Channel.SMS, None].send_at == local(2026, 3, 7, 8)
    assert planned[Kind.CONFIRMATION, Channel.VOICE, None].send_at == local(2026, 3, 7, 10)


def test_a_confirmation_that_cannot_reach_its_window_before_the_start_is_skipped() -> None:
    night = local(2026, 3, 2, 22)
    result = plan(event("booked", start=local(2026, 3, 3, 7, 45), at=night), night)
    assert set(by_slot(result)) == {(Kind.CONFIRMATION, Channel.EMAIL, None)}
    assert skips(result) == {
        (Kind.CONFIRMATION, Channel.SMS, "outside_window"),
        (Kind.CONFIRMATION, Channel.VOICE, "outside_window"),
    }


@pytest.mark.parametrize("kind", ["booked", "modified", "cancelled", "contact_changed"])
def test_nothing_is_sent_now_for_an_appointment_whose_start_is_past(kind: str) -> None:
    result = plan(event(kind, start=NOW - dt.timedelta(hours=1), at=NOW), NOW)
    assert result.upserts == ()
    assert {s.reason for s in result.skipped} == {"start_in_past"}
    assert result.skipped[0].channel is None


def test_a_start_at_this_very_instant_is_not_in_the_future() -> None:
    result = plan(event("booked", start=NOW, at=NOW), NOW)
    assert result.upserts == ()


def test_a_chosen_mode_without_its_address_is_reported_once_per_kind() -> None:
    no_mobile = _with_patient(event("booked", start=START, at=NOW), mobile_phone=None)
    result = plan(Event.model_validate(no_mobile), NOW)
    assert {m.channel for m in result.upserts} == {Channel.EMAIL, Channel.VOICE}
    assert skips(result) == {
        (Kind.CONFIRMATION, Channel.SMS, "no_address"),
        (Kind.REMINDER, Channel.SMS, "no_address"),
    }


def test_modes_not_chosen_are_not_used() -> None:
    result = booked(modes=("sms",))
    assert {m.channel for m in result.upserts} == {Channel.SMS}
    assert result.skipped == ()


def _with_patient(source: Event, **patient: Any) -> dict[str, Any]:
    data = source.model_dump(mode="json")
    data["appointment"]["patient"].update(patient)
    return data


# -- reminders ---------------------------------------------------------------------------


def test_reminders_three_days_and_one_day_before_at_the_same_local_time() -> None:
    planned = by_slot(booked())
    for channel in (Channel.EMAIL, Channel.SMS):
        assert planned[Kind.REMINDER, channel, J3].send_at == local(2026, 3, 14, 9, 30)
        assert planned[Kind.REMINDER, channel, J1].send_at == local(2026, 3, 16, 9, 30)
    for offset in (J3, J1):
        reminder = planned[Kind.REMINDER, Channel.EMAIL, offset]
        assert reminder.deadline == START - SETTINGS.reminder_min_lead
        assert reminder.slot.endswith(f":{offset}")


def test_weekends_count_like_any_day() -> None:
    monday = local(2026, 3, 16, 9, 30)
    planned = by_slot(booked(start=monday))
    assert planned[Kind.REMINDER, Channel.SMS, J3].send_at == local(2026, 3, 13, 9, 30)  # Fri
    assert planned[Kind.REMINDER, Channel.SMS, J1].send_at == local(2026, 3, 15, 9, 30)  # Sun
    # Voice calls wait for weekend calling hours (10:00).
    assert planned[Kind.REMINDER, Channel.VOICE, J1].send_at == local(2026, 3, 15, 10)


def test_reminders_keep_the_local_time_across_the_march_dst_change() -> None:
    tuesday = local(2026, 3, 10, 9, 30)  # EDT; three days before is Saturday, EST
    planned = by_slot(booked(start=tuesday))
    j3 = planned[Kind.REMINDER, Channel.EMAIL, J3].send_at
    assert j3.astimezone(ZONE).time() == dt.time(9, 30)
    assert tuesday - j3 == dt.timedelta(days=3, hours=-1)


def test_reminders_keep_the_local_time_across_the_november_dst_change() -> None:
    now = local(2026, 10, 20, 10)
    start = local(2026, 11, 2, 9, 30)  # EST; the day before is Sunday 1 November
    planned = by_slot(plan(event("booked", start=start, at=now), now))
    for offset in (J3, J1):
        sent = planned[Kind.REMINDER, Channel.EMAIL, offset].send_at.astimezone(ZONE)
        assert sent.time() == dt.time(9, 30)
    assert reminder_due(start, dt.timedelta(days=1, hours=2), ZONE) == (
        local(2026, 11, 1, 9, 30).astimezone(dt.UTC) - dt.timedelta(hours=2)
    )


def test_an_early_appointment_has_its_reminders_moved_into_the_window() -> None:
    planned = by_slot(booked(start=local(2026, 3, 17, 7, 0)))
    assert planned[Kind.REMINDER, Channel.EMAIL, J1].send_at == local(2026, 3, 16, 7)
    assert planned[Kind.REMINDER, Channel.SMS, J1].send_at == local(2026, 3, 16, 8)
    assert planned[Kind.REMINDER, Channel.VOICE, J1].send_at == local(2026, 3, 16, 9)


def test_a_reminder_that_does_not_fit_before_its_deadline_is_skipped() -> None:
    settings = Settings(reminder_offsets="4h")
    start = local(2026, 3, 17, 9, 30)  # due 05:30, deadline 07:30: before SMS hours
    result = plan(event("booked", start=start, at=NOW), NOW, settings=settings)
    planned = by_slot(result)
    assert planned[Kind.REMINDER, Channel.EMAIL, 4 * 3600].send_at == local(2026, 3, 17, 5, 30)
    assert (Kind.REMINDER, Channel.SMS, "outside_window") in skips(result)
    assert (Kind.REMINDER, Channel.VOICE, "outside_window") in skips(result)


def test_booked_less_than_three_days_ahead_gets_only_the_one_day_reminder() -> None:
    result = booked(start=local(2026, 3, 4, 11))
    offsets = {m.offset_seconds for m in result.upserts if m.kind is Kind.REMINDER}
    assert offsets == {J1}
    assert result.skipped == ()  # the confirmation covers it: nothing to report


def test_no_reminder_is_due_at_the_very_instant_of_booking() -> None:
    result = booked(start=NOW + dt.timedelta(days=1))
    assert not [m for m in result.upserts if m.kind is Kind.REMINDER]


# -- modification ------------------------------------------------------------------------


def _apply(previous: Plan, *plans: Plan) -> frozenset[str]:
    """The pending slots after ``previous`` and then ``plans`` (nothing sent meanwhile)."""
    pending = set(slots(previous))
    for result in plans:
        pending -= result.removals
        pending |= slots(result)
    return frozenset(pending)


def test_a_modification_is_sent_and_replaces_the_reminders() -> None:
    first = booked()
    later = local(2026, 3, 5, 12)
    moved = local(2026, 3, 19, 14)
    change = plan(event("modified", version=2, start=moved, at=later), later,
                  previous=first.state, pending=frozenset())
    planned = by_slot(change)
    for channel in ALL:
        assert planned[Kind.MODIFICATION, channel, None].send_at == later
        assert planned[Kind.REMINDER, channel, J1].version == 2
    assert planned[Kind.REMINDER, Channel.EMAIL, J1].send_at == local(2026, 3, 18, 14)
    assert change.state.version == 2


def test_a_modification_that_makes_a_reminder_impossible_withdraws_it() -> None:
    first = booked()
    pending = slots(first) - {m.slot for m in first.upserts if m.kind is Kind.CONFIRMATION}
    later = local(2026, 3, 5, 12)
    change = plan(event("modified", version=2, start=local(2026, 3, 7, 14), at=later), later,
                  previous=first.state, pending=pending)
    j3 = {m.slot for m in first.upserts if m.offset_seconds == J3}
    assert change.removals == j3
    assert {(s.kind, s.reason) for s in change.skipped} == {(Kind.REMINDER, "reminder_time_passed")}
    assert {m.offset_seconds for m in change.upserts if m.kind is Kind.REMINDER} == {J1}


def test_a_change_of_the_hide_name_option_alone_sends_nothing_and_is_not_applied() -> None:
    first = booked()
    change = plan(event("modified", version=2, start=START, at=NOW, hide_professional_name=True),
                  NOW, previous=first.state)
    assert skips(change) == {(Kind.MODIFICATION, None, "hide_name_only")}
    assert not [m for m in change.upserts if m.kind is Kind.MODIFICATION]
    assert change.state.appointment.hide_professional_name is False
    assert change.state.version == 2


def test_a_modification_with_nothing_visible_sends_nothing() -> None:
    first = booked()
    change = plan(event("modified", version=2, start=START, at=NOW), NOW, previous=first.state)
    assert skips(change) == {(Kind.MODIFICATION, None, "nothing_visible_changed")}


@pytest.mark.parametrize(
    "change",
    [
        {"duration_minutes": 30},
        {"professional_name": "Dr Marc Gagnon"},
        {"location": location(name="Clinique du Mile End")},
    ],
)
def test_each_visible_field_is_a_modification(change: dict[str, Any]) -> None:
    first = booked()
    result = plan(event("modified", version=2, start=START, at=NOW, **change), NOW,
                  previous=first.state)
    assert {m.kind for m in result.upserts} >= {Kind.MODIFICATION}


def test_a_modification_while_the_confirmation_waits_rides_on_the_confirmation() -> None:
    night = local(2026, 3, 6, 23, 15)
    first = plan(event("booked", start=START, at=night), night)
    still_waiting = frozenset(  # the email confirmation left; SMS and voice wait for 08:00
        m.slot for m in first.upserts if m.channel is not Channel.EMAIL
    )
    later = night + dt.timedelta(minutes=10)
    change = plan(event("modified", version=2, start=START + dt.timedelta(hours=2), at=later),
                  later, previous=first.state, pending=still_waiting)
    modifications = [m for m in change.upserts if m.kind is Kind.MODIFICATION]
    assert [m.channel for m in modifications] == [Channel.EMAIL]
    assert skips(change) == {
        (Kind.MODIFICATION, Channel.SMS, "confirmation_pending"),
        (Kind.MODIFICATION, Channel.VOICE, "confirmation_pending"),
    }
    assert not change.removals & still_waiting


def test_a_second_modification_takes_the_same_slot() -> None:
    first = booked()
    one = plan(event("modified", version=2, start=START + dt.timedelta(hours=1), at=NOW), NOW,
               previous=first.state)
    two = plan(event("modified", version=3, start=START + dt.timedelta(hours=2), at=NOW), NOW,
               previous=one.state, pending=slots(one))
    assert {m.slot for m in two.upserts if m.kind is Kind.MODIFICATION} == {
        m.slot for m in one.upserts if m.kind is Kind.MODIFICATION
    }
    assert two.removals == frozenset()


def test_a_modification_of_an_appointment_never_seen_is_sent() -> None:
    result = plan(event("modified", version=4, start=START, at=NOW), NOW)
    assert {m.kind for m in result.upserts} == {Kind.MODIFICATION, Kind.REMINDER}


# -- cancellation ------------------------------------------------------------------------


def test_a_cancellation_withdraws_everything_pending_and_is_sent() -> None:
    first = booked()
    later = local(2026, 3, 3, 9)
    result = plan(event("cancelled", version=2, start=START, at=later), later,
                  previous=first.state, pending=slots(first))
    assert result.removals == slots(first)
    assert {(m.kind, m.send_at) for m in result.upserts} == {(Kind.CANCELLATION, later)}
    assert len(result.upserts) == 3


def test_a_cancellation_after_the_start_withdraws_but_sends_nothing() -> None:
    first = booked()
    after = START + dt.timedelta(minutes=5)
    result = plan(event("cancelled", version=2, start=START, at=after), after,
                  previous=first.state, pending=slots(first))
    assert result.upserts == ()
    assert result.removals == slots(first)
    assert skips(result) == {(Kind.CANCELLATION, None, "start_in_past")}


def test_a_second_cancellation_is_not_sent_again() -> None:
    first = booked()
    cancelled = plan(event("cancelled", version=2, start=START, at=NOW), NOW,
                     previous=first.state, pending=slots(first))
    again = plan(event("cancelled", version=3, start=START, at=NOW), NOW,
                 previous=cancelled.state, pending=slots(cancelled))
    assert again.upserts == ()
    assert again.removals == frozenset()  # the first cancellation, still waiting, stays
    assert skips(again) == {(Kind.CANCELLATION, None, "already_cancelled")}


def test_booking_again_after_a_cancellation_withdraws_the_waiting_cancellation() -> None:
    first = booked()
    cancelled = plan(event("cancelled", version=2, start=START, at=NOW), NOW,
                     previous=first.state, pending=frozenset())
    again = plan(event("booked", version=3, start=START, at=NOW), NOW,
                 previous=cancelled.state, pending=slots(cancelled))
    assert again.removals == slots(cancelled)
    assert {m.kind for m in again.upserts} == {Kind.CONFIRMATION, Kind.REMINDER}


# -- contact change ----------------------------------------------------------------------


def test_a_contact_change_goes_to_the_new_details_and_re_targets_reminders() -> None:
    first = booked()
    pending = _apply(first)
    later = local(2026, 3, 4, 15)
    result = plan(event("contact_changed", version=2, start=START, at=later, modes=("sms",)),
                  later, previous=first.state, pending=pending)
    assert {(m.kind, m.channel) for m in result.upserts} == {
        (Kind.CONTACT_CHANGE, Channel.SMS),
        (Kind.REMINDER, Channel.SMS),
    }
    assert result.removals == {s for s in pending if ":sms" not in s}


def test_a_contact_change_on_a_cancelled_appointment_sends_nothing() -> None:
    first = booked()
    cancelled = plan(event("cancelled", version=2, start=START, at=NOW), NOW,
                     previous=first.state, pending=_apply(first))
    result = plan(event("contact_changed", version=3, start=START, at=NOW, modes=("sms",),
                        status="cancelled"), NOW, previous=cancelled.state)
    assert result.upserts == ()
    assert skips(result) == {(Kind.CONTACT_CHANGE, None, "cancelled")}


def test_a_contact_change_event_that_changes_nothing_is_not_sent() -> None:
    first = booked()
    result = plan(event("contact_changed", version=2, start=START, at=NOW), NOW,
                  previous=first.state)
    assert skips(result) == {(Kind.CONTACT_CHANGE, None, "contact_unchanged")}


def test_a_reminder_waiting_for_its_window_survives_a_later_event() -> None:
    settings = Settings(reminder_offsets="1d")
    start = local(2026, 3, 17, 6, 0)
    first = plan(event("booked", start=start, at=NOW), NOW, settings=settings)
    sms = next(m for m in first.upserts if m.kind is Kind.REMINDER and m.channel is Channel.SMS)
    assert sms.send_at == local(2026, 3, 16, 8)
    # At 07:00 the day before, the SMS reminder is due but waits for 08:00; the email left.
    seven = local(2026, 3, 16, 7)
    result = plan(event("contact_changed", version=2, start=start, at=seven, language="en"),
                  seven, previous=first.state, pending=frozenset({sms.slot}), settings=settings)
    kept = next(m for m in result.upserts if m.slot == sms.slot)
    assert (kept.version, kept.send_at) == (2, sms.send_at)
    assert result.removals == frozenset()
    assert [m.kind for m in result.upserts].count(Kind.REMINDER) == 1  # not the email again


# -- no-show -----------------------------------------------------------------------------


def _absent(at: dt.datetime, previous: Plan, *, version: int = 2, **options: Any) -> Plan:
    return plan(event("attendance_changed", version=version, start=START, at=at,
                      attendance="absent", **options), at, previous=previous.state)


AFTER = START + dt.timedelta(hours=2)  # Tuesday 17 March, 11:30


def test_absence_plans_the_no_show_message_24_to_48_hours_later() -> None:
    result = _absent(AFTER, booked())
    planned = by_slot(result)
    for channel in ALL:
        message = planned[Kind.NO_SHOW, channel, None]
        assert message.send_at == AFTER + dt.timedelta(hours=24)
        assert message.deadline == AFTER + dt.timedelta(hours=48)
    assert result.state.attendance_set_at == AFTER
    assert result.state.appointment.attendance is Attendance.ABSENT


def test_an_absence_set_late_in_the_evening_waits_for_the_sms_window() -> None:
    evening = local(2026, 3, 17, 22)
    planned = by_slot(_absent(evening, booked()))
    assert planned[Kind.NO_SHOW, Channel.EMAIL, None].send_at == local(2026, 3, 18, 22)
    assert planned[Kind.NO_SHOW, Channel.SMS, None].send_at == local(2026, 3, 19, 8)


def test_the_no_show_message_is_skipped_when_the_window_never_opens_in_time() -> None:
    settings = Settings(window_sms="sat-sun 08:00-21:00")
    first = plan(event("booked", start=START, at=NOW), NOW, settings=settings)
    result = plan(event("attendance_changed", version=2, start=START, at=AFTER,
                        attendance="absent"), AFTER, previous=first.state, settings=settings)
    assert (Kind.NO_SHOW, Channel.SMS, "outside_window") in skips(result)


def test_no_no_show_message_when_the_location_option_is_off() -> None:
    first = booked(location=location(no_show_message=False))
    result = _absent(AFTER, first, location=location(no_show_message=False))
    assert not [m for m in result.upserts if m.kind is Kind.NO_SHOW]
    assert skips(result) == {(Kind.NO_SHOW, None, "no_show_disabled")}


def test_attendance_set_back_withdraws_the_no_show_message() -> None:
    absent = _absent(AFTER, booked())
    later = AFTER + dt.timedelta(hours=3)
    result = plan(event("attendance_changed", version=3, start=START, at=later,
                        attendance="present"), later, previous=absent.state,
                  pending=slots(absent))
    assert result.removals == slots(absent)
    assert result.upserts == ()


def test_the_time_attendance_was_set_comes_from_the_appointment_when_given() -> None:
    set_at = AFTER - dt.timedelta(minutes=30)
    result = _absent(AFTER, booked(), attendance_set_at=set_at.isoformat())
    assert result.state.attendance_set_at == set_at
    assert by_slot(result)[Kind.NO_SHOW, Channel.EMAIL, None].send_at == (
        set_at + dt.timedelta(hours=24)
    )


def test_a_later_event_while_absent_does_not_plan_the_no_show_again() -> None:
    absent = _absent(AFTER, booked())
    later = AFTER + dt.timedelta(hours=1)
    result = plan(event("contact_changed", version=3, start=START, at=later,
                        attendance="absent", language="en"), later,
                  previous=absent.state, pending=slots(absent))
    assert result.upserts == ()
    assert result.removals == frozenset()
    assert result.state.attendance_set_at == AFTER


# -- versions and remembered values ------------------------------------------------------


@pytest.mark.parametrize("version", [1, 2])
def test_an_event_not_newer_than_the_stored_state_is_ignored(version: int) -> None:
    first = booked()
    stored = dataclasses.replace(first.state, version=2)
    outcome = plan_event(stored, slots(first), event("cancelled", version=version, start=START,
                                                     at=NOW), SETTINGS, NOW)
    assert outcome == Ignored("stale_version", 2)


def test_the_cancellation_notice_is_fixed_when_first_seen() -> None:
    first = booked()
    assert first.state.cancel_closes_at == START - dt.timedelta(hours=24)
    policy = location(cancellation_notice_minutes=60)
    same = plan(event("modified", version=2, start=START, at=NOW, location=policy), NOW,
                previous=first.state)
    assert same.state.cancel_closes_at == START - dt.timedelta(hours=24)
    # Moving the appointment moves the deadline, keeping the first notice (24 h).
    moved_start = START + dt.timedelta(days=2)
    moved = plan(event("modified", version=3, start=moved_start, at=NOW, location=policy), NOW,
                 previous=same.state)
    assert moved.state.cancel_closes_at == moved_start - dt.timedelta(hours=24)


def test_a_new_appointment_uses_its_locations_notice() -> None:
    state = next_state(None, event("booked", start=START, at=NOW,
                                   location=location(cancellation_notice_minutes=90)))
    assert state.cancel_closes_at == START - dt.timedelta(minutes=90)
    assert state.attendance_set_at is None


def test_an_absence_reported_late_is_sent_now_if_still_before_its_deadline() -> None:
    set_at = AFTER - dt.timedelta(hours=30)
    result = _absent(AFTER, booked(), attendance_set_at=set_at.isoformat())
    message = by_slot(result)[Kind.NO_SHOW, Channel.EMAIL, None]
    assert (message.send_at, message.deadline) == (AFTER, set_at + dt.timedelta(hours=48))


@pytest.mark.parametrize("kind", ["modified", "contact_changed", "attendance_changed"])
def test_a_cancelled_status_in_any_event_tells_the_patient_of_the_cancellation(
    kind: str,
) -> None:
    first = booked(modes=("email",))
    result = plan(event(kind, version=2, start=START, at=NOW, modes=("email",),
                        status="cancelled"), NOW, previous=first.state, pending=_apply(first))
    assert {(m.kind, m.channel) for m in result.upserts} == {(Kind.CANCELLATION, Channel.EMAIL)}
    assert all(":reminder:" in s or ":confirmation:" in s for s in result.removals)


def test_a_late_evening_appointment_is_reminded_before_the_window_closes_the_day_before() -> None:
    evening = local(2026, 3, 17, 21, 30)  # after the SMS window's 21:00 close
    result = booked(start=evening, modes=("sms",))
    one_day = by_slot(result)[(Kind.REMINDER, Channel.SMS, J1)]
    assert one_day.send_at == local(2026, 3, 16, 20, 45)
    three_days = by_slot(result)[(Kind.REMINDER, Channel.SMS, J3)]
    assert three_days.send_at == local(2026, 3, 14, 20, 45)


def test_the_keys_of_pending_messages_taken_back_are_named_removed_or_replaced() -> None:
    first = booked(modes=("sms",))
    pending = slots(first)
    later = local(2026, 3, 5, 12)
    # J3 can no longer be sent; J1 is planned again for the new start (another key); the
    # confirmation, still waiting, stays (the modification rides on it).
    change = plan(event("modified", version=2, start=local(2026, 3, 7, 14), at=later,
                        modes=("sms",)), later, previous=first.state, pending=pending)

    old = {(m.kind, m.offset_seconds): m.key for m in first.upserts}
    assert set(change.withdrawn) == {old[Kind.REMINDER, J3], old[Kind.REMINDER, J1]}
    assert old[Kind.REMINDER, J1] not in {m.key for m in change.upserts}


def test_a_pending_message_planned_again_under_its_own_key_is_not_withdrawn() -> None:
    first = booked(modes=("sms",))
    later = local(2026, 3, 5, 12)
    # Another address only: the reminders keep their start, hence their keys.
    again = plan(event("contact_changed", version=2, start=START, at=later, modes=("sms",),
                       patient={"mobile_phone": "+15145550177"}),
                 later, previous=first.state, pending=slots(first))

    reminders = {m.key for m in first.upserts if m.kind is Kind.REMINDER}
    assert reminders <= {m.key for m in again.upserts}
    assert not reminders & set(again.withdrawn)
