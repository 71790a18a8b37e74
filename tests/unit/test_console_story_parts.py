"""The pure parts behind the console's story, usage and dead letters: what a requeue will
do at a given instant, usage summed per day in a zone, and a received text masked."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notifier.domain import Channel, Kind, Lang, Status
from notifier.operations.dead_letters import DeadLetter
from notifier.operations.received_text import mask_patient, received_text
from notifier.operations.requeue_outlook import Outcome, Outlook, event_outlook, send_outlook
from notifier.operations.usage import day_hours, sum_days
from notifier.planning.entries import AppointmentState, PlannedMessage
from notifier.planning.reasons import Reason
from notifier.settings import Settings
from notifier.store.usage import usage_of
from notifier.web.console.dead_letter_pages import next_step_of
from notifier.web.console.i18n import Words
from notifier.web.console.story_view import scrub
from tests.factories import event, local

TORONTO = ZoneInfo("America/Toronto")
NOW = local(2026, 11, 24, 10).astimezone(dt.UTC)
START = local(2026, 12, 1, 9, 30)
SETTINGS = Settings(window_sms="mon-sun 08:00-21:00", window_voice="always")


def _state(**patient: Any) -> AppointmentState:
    return AppointmentState(event("booked", start=START, at=NOW, modes=("sms", "email"),
                                  patient=patient).appointment, 1, START)


def _message(**changes: Any) -> PlannedMessage:
    values: dict[str, Any] = {
        "reference": "0000000001", "kind": Kind.CONFIRMATION, "channel": Channel.SMS,
        "version": 1, "send_at": NOW, "deadline": START.astimezone(dt.UTC),
        "start": START.astimezone(dt.UTC), **changes}
    return PlannedMessage(**values)


def test_a_requeued_text_goes_now_inside_its_window() -> None:
    outlook = send_outlook(_message(), _state(), SETTINGS, NOW)
    assert outlook.outcome is Outcome.SEND_NOW
    assert outlook.booked is True and outlook.start_passed is False


def test_a_requeued_text_waits_for_its_window_at_night() -> None:
    night = local(2026, 11, 24, 23).astimezone(dt.UTC)
    outlook = send_outlook(_message(), _state(), SETTINGS, night)
    assert outlook.outcome is Outcome.SEND_LATER
    assert outlook.at == local(2026, 11, 25, 8).astimezone(dt.UTC)


def test_a_requeued_message_of_a_cancelled_appointment_is_held_back() -> None:
    state = _state()
    cancelled = dataclasses.replace(
        state, appointment=state.appointment.model_copy(update={"status": Status.CANCELLED}))
    outlook = send_outlook(_message(), cancelled, SETTINGS, NOW)
    assert (outlook.outcome, outlook.reason, outlook.booked) == (
        Outcome.HELD_BACK, Reason.CANCELLED, False)


def test_a_requeued_message_after_the_start_is_held_back() -> None:
    after = START.astimezone(dt.UTC) + dt.timedelta(hours=1)
    outlook = send_outlook(_message(deadline=after + dt.timedelta(days=1)), _state(),
                           SETTINGS, after)
    assert outlook.outcome is Outcome.HELD_BACK and outlook.start_passed is True


def test_a_requeued_message_of_an_appointment_no_longer_held_is_held_back() -> None:
    outlook = send_outlook(_message(), None, SETTINGS, NOW)
    assert outlook.outcome is Outcome.HELD_BACK and outlook.booked is None


def test_a_requeued_event_is_read_again() -> None:
    assert event_outlook(None, NOW).outcome is Outcome.EVENT_AGAIN
    assert event_outlook(_state(), NOW).booked is True


def test_a_day_in_a_zone_is_made_of_its_utc_hours_even_on_a_clock_change() -> None:
    fall_back = dt.date(2026, 11, 1)
    hours = day_hours(fall_back, 1, TORONTO)
    assert len(hours) == 25
    assert hours[0][1] == dt.datetime(2026, 11, 1, 4, tzinfo=dt.UTC)


def test_usage_is_summed_per_day_and_clinic_newest_first() -> None:
    day1, day2 = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
    rows = sum_days([(day1, {"plateau|sms": "2"}), (day2, {"plateau|sms": "3"}),
                     (day2, {"plateau|sms": "1", "plateau|email": "4", "rosemont|voice": "1",
                             "bad|pigeon": "9"})], location=None)
    assert [(r.day, r.location) for r in rows] == [(day2, "plateau"), (day2, "rosemont"),
                                                   (day1, "plateau")]
    assert rows[0].of(Channel.SMS) == 4 and rows[0].of(Channel.EMAIL) == 4
    scoped = sum_days([(day2, {"plateau|sms": "1", "rosemont|sms": "5"})], location="rosemont")
    assert [(r.location, r.of(Channel.SMS)) for r in scoped] == [("rosemont", 5)]


def test_a_text_costs_its_segments_and_a_call_or_email_one() -> None:
    assert usage_of("plateau", Channel.SMS, segments=3).units == 3
    assert usage_of("plateau", Channel.VOICE, segments=None).units == 1
    assert usage_of("plateau", Channel.SMS, segments=2).field == "plateau|sms"


def test_a_received_text_masks_the_patients_names_numbers_and_email() -> None:
    state = _state()
    patient = state.appointment.patient
    text = (f"Bonjour {patient.first_name} {str(patient.last_name).upper()}, "
            f"{patient.mobile_phone} {patient.email} Clinique médicale du Plateau")
    masked = mask_patient(text, state)
    for secret in (str(patient.first_name), str(patient.last_name).upper(),
                   str(patient.mobile_phone), str(patient.email)):
        assert secret not in masked
    assert "Clinique médicale du Plateau" in masked


def test_a_received_text_is_rendered_again_with_its_encoding_and_segments() -> None:
    state = _state()
    found = received_text(state, Kind.CONFIRMATION, Channel.SMS, SETTINGS, NOW)
    assert found is not None and found.encoding in ("GSM-7", "UCS-2")
    assert found.segments and found.segments >= 1
    assert str(state.appointment.patient.first_name) not in found.text
    email = received_text(state, Kind.CONFIRMATION, Channel.EMAIL, SETTINGS, NOW)
    assert email is not None and email.subject and email.segments is None


@pytest.mark.parametrize("written", [
    "+15145550188", "514-555-0188", "(514) 555-0188", "(514)555-0188", "1-514-555-0188",
    "514.555.0188", "1 514 555 0188", "emilie.tremblay@example.org",
])
def test_a_provider_error_shows_no_number_or_email_however_written(written: str) -> None:
    shown = scrub(f"Twilio 21211: The 'To' number {written} is not a valid phone number")
    assert written not in shown and "555" not in shown and "emilie" not in shown


def test_a_reference_and_times_stay_readable() -> None:
    text = "appointment 0000000001 at 2026-11-24 10:00, key 0000000001:reminder:sms"
    assert scrub(text) == text


def _dead(reason: str = "TimeoutError", status: str | None = None) -> DeadLetter:
    return DeadLetter(queue="send", message_id="m1", actor="send_message",
                      failed_at=dt.datetime(2026, 11, 24, 15, tzinfo=dt.UTC), retries=3,
                      reason=reason, summary={"reference": "0000000001"},
                      delivery_status=status)


@pytest.mark.parametrize(("letter", "outlook", "goes_to"), [
    (_dead(), Outlook(Outcome.HELD_BACK, reason=Reason.OPTED_OUT), "/console/opt-outs"),
    (_dead("opted_out"), Outlook(Outcome.UNKNOWN), "/console/opt-outs"),
    (_dead(), Outlook(Outcome.HELD_BACK, reason=Reason.CANCELLED),
     "/console/story?reference=0000000001"),
    (_dead(status="undelivered"), Outlook(Outcome.SEND_NOW),
     "/console/story?reference=0000000001"),
    (_dead(), Outlook(Outcome.SEND_NOW), None),
])
def test_a_dead_letter_links_to_its_next_step(letter: DeadLetter, outlook: Outlook,
                                              goes_to: str | None) -> None:
    words = Words(Lang.EN, zone=ZoneInfo("America/Toronto"))
    step = next_step_of(letter, outlook, "0000000001", words)
    assert (step["href"] if step else None) == goes_to
