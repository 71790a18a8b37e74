"""The patient-response core: reading a reply, codes, matching it to open questions, the
re-check at reply time, and what a stored response means for the reminders left."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain import Channel, Kind, Lang, PatientResponses
from notifier.inbound.keywords import KEYWORDS
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.messages.sms import sms_encoding
from notifier.planning.entries import AppointmentState, Plan, PlannedMessage
from notifier.planning.plan import plan_event
from notifier.planning.reasons import Reason
from notifier.planning.send_check import Drop, Send, decide_at_send
from notifier.responses import (
    Answer,
    Answered,
    Changed,
    Clarify,
    OpenQuestion,
    PatientResponse,
    Reading,
    answered_as_is,
    asks,
    confirmed_as_is,
    match,
    plan_question,
    question_for,
    read_reply,
    recheck,
    standing,
)
from notifier.responses.questions import free_code
from notifier.responses.replies import ResponseReply, render_response_reply
from notifier.responses.words import CONFIRM_WORDS, DECLINE_WORDS
from notifier.settings import Settings
from tests.factories import event, local

SETTINGS = Settings()
NOW = local(2026, 3, 2, 10)
START = local(2026, 3, 17, 9, 30)
NUMBER = "+15145550188"
ASKING = {**SAMPLE_LOCATION.model_dump(mode="json"), "patient_responses": {}}
CONFIRMED, DECLINED = Answer.CONFIRMED, Answer.DECLINED


def state(kind: str = "booked", *, version: int = 1, previous: AppointmentState | None = None,
          reference: str = "0000000001", **options: Any) -> AppointmentState:
    options.setdefault("start", START)
    options.setdefault("location", ASKING)
    outcome = plan_event(previous, frozenset(),
                         event(kind, version=version, at=NOW, reference=reference, **options),
                         SETTINGS, NOW)
    assert isinstance(outcome, Plan)
    return outcome.state


def question(reference: str = "0000000001", *, code: str = "482", start: dt.datetime = START,
             location: dict[str, Any] | None = None, **changes: Any) -> OpenQuestion:
    held = state(reference=reference, start=start, location=location or ASKING)
    plan = plan_question(reference, held.appointment.location, [], NOW)
    asked = question_for(held, dataclasses.replace(plan, code=code), channel=Channel.SMS,
                         send_key=f"{reference}:reminder:sms:86400", now=NOW)
    return dataclasses.replace(asked, **changes)


# Reading a reply ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("1", Reading(CONFIRMED)), ("Oui", Reading(CONFIRMED)), ("o", Reading(CONFIRMED)),
        ("C", Reading(CONFIRMED)), ("y", Reading(CONFIRMED)), ("OK!", Reading(CONFIRMED)),
        ("Confirmer", Reading(CONFIRMED)), ("confirmé 👍", Reading(CONFIRMED)),
        ("confirm", Reading(CONFIRMED)), (" « oui » ", Reading(CONFIRMED)),
        ("2", Reading(DECLINED)), ("Non.", Reading(DECLINED)), ("n", Reading(DECLINED)),
        ("No", Reading(DECLINED)),
        ("1 482", Reading(CONFIRMED, "482")), ("482 1", Reading(CONFIRMED, "482")),
        ("oui 482", Reading(CONFIRMED, "482")), ("2-517", Reading(DECLINED, "517")),
        ("non, 517", Reading(DECLINED, "517")),
        # Not answers: free text, two answers, a code alone, a code of another length.
        ("oui merci", None), ("je serai en retard", None), ("1 2", None), ("482", None),
        ("1 48", None), ("1 4821", None), ("", None), ("1 482 2", None),
        # YES is Twilio's opt-in word: it never confirms, with or without a code.
        ("YES", None), ("yes 482", None),
    ],
)
def test_a_reply_is_read_as_one_word_and_maybe_a_code(text: str, reading: Reading | None) -> None:
    assert read_reply(text, question_open=True) == reading


def test_annuler_declines_only_while_a_question_is_open() -> None:
    assert read_reply("Annuler", question_open=True) == Reading(DECLINED)
    assert read_reply("ANNULER 482", question_open=True) == Reading(DECLINED, "482")
    assert read_reply("annuler", question_open=False) is None


def test_no_answer_word_is_an_opt_out_or_opt_in_keyword() -> None:
    # Keywords are read first: an answer word that were one would never reach us.
    assert not (CONFIRM_WORDS | DECLINE_WORDS | {"ANNULER"}) & set(KEYWORDS)
    assert "YES" in KEYWORDS and "ARRET" in KEYWORDS


@given(st.text(max_size=40), st.booleans())
def test_reading_never_raises_and_a_code_is_three_digits(text: str, open_: bool) -> None:
    reading = read_reply(text, question_open=open_)
    assert reading is None or reading.code is None or (
        len(reading.code) == 3 and reading.code.isdigit())


@given(st.sampled_from(sorted(CONFIRM_WORDS | DECLINE_WORDS)),
       st.integers(100, 999), st.booleans(), st.sampled_from([" ", "  ", ", ", "-", " : "]))
def test_a_word_and_a_code_read_the_same_in_either_order(
    word: str, code: int, code_first: bool, separator: str
) -> None:
    text = f"{code}{separator}{word.lower()}" if code_first else f"{word}{separator}{code}"
    reading = read_reply(text, question_open=True)
    assert reading == Reading(CONFIRMED if word in CONFIRM_WORDS else DECLINED, str(code))


# Asking, and codes --------------------------------------------------------------------


def test_reminders_ask_and_the_confirmation_only_when_the_location_wants_it() -> None:
    off = SAMPLE_LOCATION
    on = SAMPLE_LOCATION.model_copy(update={"patient_responses": PatientResponses()})
    both = SAMPLE_LOCATION.model_copy(update={"patient_responses": PatientResponses(
        channels=frozenset({Channel.SMS, Channel.VOICE}), ask_in_confirmation=True)})
    assert not asks(Kind.REMINDER, Channel.SMS, off)
    assert asks(Kind.REMINDER, Channel.SMS, on)
    assert not asks(Kind.REMINDER, Channel.VOICE, on)
    assert not asks(Kind.CONFIRMATION, Channel.SMS, on)
    assert asks(Kind.CONFIRMATION, Channel.SMS, both) and asks(Kind.REMINDER, Channel.VOICE, both)
    assert not asks(Kind.MODIFICATION, Channel.SMS, both)
    assert not asks(Kind.REMINDER, Channel.EMAIL, both)


def test_the_code_shows_only_when_another_appointment_has_an_open_question() -> None:
    location = state().appointment.location
    alone = plan_question("0000000001", location, [], NOW)
    assert not alone.show_code and alone.decline
    # The same appointment asked again: still no code, and it keeps its code.
    again = plan_question("0000000001", location, [question(code=alone.code)], NOW)
    assert again == alone
    other = question("0000000002", code=alone.code)
    second = plan_question("0000000001", location, [other], NOW)
    assert second.show_code and second.code != alone.code
    # A closed question (its appointment started) is no reason for a code.
    closed = question("0000000002", start=local(2026, 3, 2, 9))
    assert not plan_question("0000000001", location, [closed], NOW).show_code


@given(st.sets(st.integers(100, 999), max_size=899), st.text(min_size=1, max_size=10))
def test_a_free_code_is_three_digits_and_not_taken(taken: set[int], reference: str) -> None:
    code = free_code(reference, {str(c) for c in taken})
    assert len(code) == 3 and 100 <= int(code) <= 999 and int(code) not in taken


def test_a_question_reads_back_as_it_was_stored() -> None:
    asked = question()
    assert OpenQuestion.unpacked(asked.reference, asked.packed()) == asked
    assert asked.closes_at == START and asked.lang is Lang.FR


# Matching -----------------------------------------------------------------------------


def test_one_open_question_takes_the_answer() -> None:
    only = question()
    assert match(Reading(CONFIRMED), [only], NOW) == Answered((only,))
    assert match(Reading(CONFIRMED), [only], START) is None  # closed at the start


def test_same_day_same_location_questions_are_answered_together() -> None:
    first = question("0000000001", code="111")
    second = question("0000000002", code="222", start=START + dt.timedelta(minutes=20))
    assert match(Reading(CONFIRMED), [second, first], NOW) == Answered((first, second))


def test_different_questions_without_a_code_ask_which_then_the_code_answers() -> None:
    first = question("0000000001", code="111")
    other_day = question("0000000002", code="222", start=START + dt.timedelta(days=1))
    assert match(Reading(DECLINED), [other_day, first], NOW) == Clarify((first, other_day))
    assert match(Reading(DECLINED, "222"), [first, other_day], NOW) == Answered((other_day,))
    # A code that matches none: the clarification again.
    assert match(Reading(DECLINED, "333"), [first, other_day], NOW) == Clarify(
        (first, other_day))


def test_a_code_two_different_appointments_share_asks_which() -> None:
    # Two messages to one number at the same instant may both show one code: a reply
    # with it answers neither until the patient says which.
    first = question("0000000001", code="482", code_shown=True)
    other_day = question("0000000002", code="482", code_shown=True,
                         start=START + dt.timedelta(days=1))
    assert match(Reading(CONFIRMED, "482"), [first, other_day], NOW) == Clarify(
        (first, other_day))


def test_whether_the_code_was_shown_survives_storage() -> None:
    shown = question(code_shown=True)
    assert OpenQuestion.unpacked(shown.reference, shown.packed()) == shown
    hidden = question()
    assert '"w"' not in hidden.packed()
    assert OpenQuestion.unpacked(hidden.reference, hidden.packed()) == hidden


def test_only_questions_about_appointments_still_as_asked_stand() -> None:
    first = question("0000000001", code="111")
    second = question("0000000002", code="222", start=START + dt.timedelta(days=1))
    states = {"0000000001": state(reference="0000000001", location=ASKING),
              "0000000002": state(reference="0000000002", location=ASKING,
                                  start=START + dt.timedelta(days=1, hours=2))}
    number = states["0000000001"].appointment.patient.mobile_phone
    assert number is not None
    assert standing([second, first], states, number, NOW) == (first,)
    assert standing([first, second], {}, number, NOW) == ()


def test_another_location_the_same_day_is_another_question() -> None:
    elsewhere = {**ASKING, "id": "clinique-rosemont"}
    first = question("0000000001", code="111")
    second = question("0000000002", code="222", location=elsewhere)
    assert isinstance(match(Reading(CONFIRMED), [first, second], NOW), Clarify)


# Re-check at reply time ---------------------------------------------------------------


def test_the_answer_applies_to_the_appointment_as_asked() -> None:
    held = state()
    assert recheck(question(), held, NUMBER, NOW) is None
    # A change the patient does not see (a new version) changes nothing.
    assert recheck(question(), state("contact_changed", version=2, previous=held),
                   NUMBER, NOW) is None


def test_an_appointment_moved_cancelled_started_or_gone_has_changed() -> None:
    held = state()
    asked = question()
    moved = state("modified", version=2, previous=held, start=START + dt.timedelta(hours=1))
    cancelled = state("cancelled", version=2, previous=held)
    other_number = state("contact_changed", version=2, previous=held,
                         patient={"mobile_phone": "+15145550177"})
    assert recheck(asked, moved, NUMBER, NOW) is Changed.MOVED
    assert recheck(asked, cancelled, NUMBER, NOW) is Changed.CANCELLED
    assert recheck(asked, held, NUMBER, START) is Changed.STARTED
    assert recheck(asked, None, NUMBER, NOW) is Changed.GONE
    assert recheck(asked, other_number, NUMBER, NOW) is Changed.NUMBER_CHANGED


def test_the_number_is_compared_on_the_channel_the_question_was_asked_on() -> None:
    held = state()
    home = held.appointment.patient.home_phone
    called = question(channel=Channel.VOICE)
    assert home is not None and home != NUMBER
    # A call goes to the home phone: the home phone answers it, the mobile does not.
    assert recheck(called, held, home, NOW) is None
    assert recheck(called, held, NUMBER, NOW) is Changed.NUMBER_CHANGED
    assert recheck(question(), held, home, NOW) is Changed.NUMBER_CHANGED
    moved_home = state("contact_changed", version=2, previous=held,
                       patient={"home_phone": "+15145550177"})
    assert recheck(called, moved_home, home, NOW) is Changed.NUMBER_CHANGED


def test_a_decline_after_the_cancellation_deadline_is_flagged() -> None:
    asked = question()
    assert not asked.past_cancellation_deadline(NOW)
    assert asked.past_cancellation_deadline(START - dt.timedelta(hours=2))


# A confirmed appointment and its reminders ----------------------------------------------


def _response(answer: Answer, held: AppointmentState) -> PatientResponse:
    asked = question()
    return PatientResponse(answer, NOW, Channel.SMS, held.version, "digest", asked.fingerprint)


def test_a_confirmation_holds_for_the_appointment_as_confirmed_only() -> None:
    held = state()
    confirmed = _response(CONFIRMED, held)
    assert confirmed_as_is(confirmed, held)
    assert PatientResponse.from_fields(confirmed.fields()) == confirmed
    assert PatientResponse.from_fields({}) is None
    assert not confirmed_as_is(_response(DECLINED, held), held)
    assert not confirmed_as_is(None, held)
    moved = state("modified", version=2, previous=held, start=START + dt.timedelta(days=1))
    assert not confirmed_as_is(confirmed, moved)


def test_either_answer_holds_for_the_appointment_as_answered_only() -> None:
    # What stops a fallback or a call's retry: the patient answered, either way.
    held = state()
    assert answered_as_is(_response(CONFIRMED, held), held)
    assert answered_as_is(_response(DECLINED, held), held)
    assert not answered_as_is(None, held)
    moved = state("modified", version=2, previous=held, start=START + dt.timedelta(days=1))
    assert not answered_as_is(_response(DECLINED, held), moved)


def test_a_confirmed_appointment_skips_reminders_only_when_told_to() -> None:
    held = state()
    reminder = PlannedMessage(reference="0000000001", kind=Kind.REMINDER, channel=Channel.SMS,
                              version=1, send_at=NOW, deadline=START,
                              start=START.astimezone(dt.UTC), offset_seconds=86400)
    assert decide_at_send(reminder, held, SETTINGS, NOW, confirmed=True) == Drop(
        Reason.PATIENT_CONFIRMED)
    assert decide_at_send(reminder, held, SETTINGS, NOW) == Send(NUMBER)
    other = dataclasses.replace(reminder, kind=Kind.CONFIRMATION, offset_seconds=None)
    assert decide_at_send(other, held, SETTINGS, NOW, confirmed=True) == Send(NUMBER)


def test_an_answer_for_a_family_names_each_time_and_always_fits_one_segment() -> None:
    first = question("0000000001", code="111")
    second = question("0000000002", code="222", start=START + dt.timedelta(minutes=20))
    fr = render_response_reply(ResponseReply.CONFIRMED, Lang.FR, SETTINGS,
                               questions=(first, second))
    assert "Vos RV du" in fr and " et " in fr and fr.endswith("sont confirmés.")
    en = render_response_reply(ResponseReply.DECLINED, Lang.EN, SETTINGS,
                               questions=(first, second))
    assert "appointments on" in en and " and " in en
    alone = render_response_reply(ResponseReply.CONFIRMED, Lang.FR, SETTINGS,
                                  questions=(first,))
    assert "Votre RV du" in alone
    # Too many to name in one segment: the first alone.
    many = tuple(question(f"00000000{n:02d}", code=str(100 + n),
                          start=START + dt.timedelta(minutes=5 * n)) for n in range(12))
    crowded = render_response_reply(ResponseReply.DECLINED, Lang.FR, SETTINGS, questions=many)
    assert sms_encoding(crowded).segments == 1
    assert crowded == render_response_reply(ResponseReply.DECLINED, Lang.FR, SETTINGS,
                                             questions=many[:1])
