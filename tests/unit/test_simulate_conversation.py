"""``notifier simulate`` with patients' texts and keys: whole conversations, offline."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from notifier.domain import Channel, Event, Lang
from notifier.errors import TimelineError
from notifier.inbound.keywords import parse
from notifier.inbound.replies import render_reply
from notifier.messages.keypad import KeypadPart, spoken
from notifier.planning.entries import Plan
from notifier.planning.plan import plan_event
from notifier.planning.reasons import Reason
from notifier.public_status import describe_reason
from notifier.responses import OpenQuestion, plan_question, question_for
from notifier.responses.replies import ResponseReply, render_response_reply
from notifier.settings import Settings
from notifier.simulate import (
    Record,
    SimulatedOutcome,
    format_record,
    load_timeline,
    run,
    simulate,
)

DATA = Path(__file__).resolve().parents[1] / "data"
REPORTS = DATA / "reports"
SETTINGS = Settings()
CONVERSATION = DATA / "conversation_remind_decline_cancel.jsonl"
LINES = CONVERSATION.read_text(encoding="utf-8").splitlines()
BOOKED = json.loads(LINES[0])
MOBILE, HOME = "+15145550166", "+15145550167"


@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("sample", sorted(DATA.glob("*.jsonl")), ids=lambda p: p.name)
def test_each_timeline_reports_exactly_what_it_did(sample: Path, lang: Lang) -> None:
    out = io.StringIO()
    assert run(sample, SETTINGS, out, lang=lang) == 0
    expected = REPORTS / f"{sample.stem}.{lang}.txt"
    assert out.getvalue() == expected.read_text(encoding="utf-8")


def play(*lines: dict[str, object]) -> list[Record]:
    return simulate(load_timeline(json.dumps(line) for line in lines), SETTINGS)


def at(when: str) -> str:
    return f"2026-06-07T{when}:00-04:00"


def steps(records: list[Record]) -> list[tuple[SimulatedOutcome, str | None]]:
    """What the answer lines say (no event's, no message's)."""
    return [(r.outcome, r.event or r.text) for r in records
            if r.kind is None and r.reason is None and r.outcome is not SimulatedOutcome.EVENT]


def test_the_reminder_asks_and_the_call_keeps_its_repeat_key_for_the_menu() -> None:
    records = play(BOOKED)
    reminders = {r.channel: r.text for r in records
                 if r.outcome is SimulatedOutcome.SENT and r.kind == "reminder"}
    assert "Répondez 1 pour confirmer, 2 si vous ne pouvez pas venir" in (reminders["sms"] or "")
    # The call's menu offers 1, 2, 3 and 9; its message no longer offers 1 to repeat.
    assert "appuyez sur le 1" not in (reminders["voice"] or "")
    confirmation = next(r.text for r in records if r.kind == "confirmation"
                        and str(r.channel) == "voice")
    assert "appuyez sur le 1" in (confirmation or "")  # a call that does not ask


def test_a_key_heard_on_an_answering_machine_answers_nothing() -> None:
    records = play(BOOKED, {"at": at("14:05"), "keypress": {
        "reference": "2026000005", "digits": "1", "answered_by": "machine"}})
    assert steps(records) == [(SimulatedOutcome.RECEIVED, "1"),
                              (SimulatedOutcome.IGNORED, "machine")]


@pytest.mark.parametrize(("when", "why"), [
    ("10:00", "no_call"),  # the confirmation call leaves after this instant's lines
    ("10:01", "not_an_answer"),  # the confirmation call does not ask: 1 repeats it
])
def test_a_key_on_no_call_or_on_a_call_that_does_not_ask_answers_nothing(
    when: str, why: str
) -> None:
    records = play(BOOKED, {"at": f"2026-06-01T{when}:00-04:00",
                            "keypress": {"reference": "2026000005", "digits": "1"}})
    assert steps(records) == [(SimulatedOutcome.RECEIVED, "1"), (SimulatedOutcome.IGNORED, why)]


def test_a_number_asked_about_two_appointments_gets_codes_and_answers_one() -> None:
    second = json.loads(LINES[0])
    second["event"]["event_id"] = "ros-9"
    second["event"]["appointment"]["reference"] = "2026000006"
    second["event"]["appointment"]["start"] = "2026-06-11T09:00:00"
    records = play(BOOKED, second)
    texts = [r.text or "" for r in records
             if r.outcome is SimulatedOutcome.SENT and str(r.channel) == "sms"
             and r.kind == "reminder" and r.reference == "2026000006"]
    code = texts[0].split("Répondez 1 ", 1)[1][:3]
    assert code.isdigit()

    answered = play(BOOKED, second, {"at": "2026-06-08T10:00:00-04:00",
                                     "sms": {"from": MOBILE, "body": f"oui {code}"}})
    recorded = [(r.reference, r.text) for r in answered
                if r.outcome is SimulatedOutcome.RECORDED]
    assert recorded == [("2026000006", "confirmed")]


def test_an_opt_out_word_during_a_question_is_never_an_answer() -> None:
    records = play(BOOKED, {"at": at("14:02"), "sms": {"from": MOBILE, "body": "ARRÊT"}})
    answers = steps(records)
    assert answers[0] == (SimulatedOutcome.RECEIVED, "ARRET")
    assert all(outcome is not SimulatedOutcome.RECORDED for outcome, _ in answers)


def asked(line: dict[str, object]) -> OpenQuestion:
    """The question the booking ``line``'s reminders ask (its date, time and code)."""
    event = Event.model_validate(line["event"])
    now = event.occurred_at
    outcome = plan_event(None, frozenset(), event, SETTINGS, now)
    assert isinstance(outcome, Plan)
    location = outcome.state.appointment.location
    plan = plan_question(event.appointment.reference, location, [], now)
    return question_for(outcome.state, plan, channel=Channel.SMS, send_key="k", now=now)


def replies(records: list[Record]) -> list[str]:
    return [r.text or "" for r in records if r.outcome is SimulatedOutcome.REPLIED]


def test_a_decline_by_text_after_the_deadline_gets_the_webhooks_late_reply() -> None:
    # The 1-day reminder asks at 14:00 on 9 June, the cancellation deadline.
    records = play(BOOKED, {"at": "2026-06-09T14:30:00-04:00",
                            "sms": {"from": MOBILE, "body": "non"}})

    [recorded] = [r for r in records if r.outcome is SimulatedOutcome.RECORDED]
    assert (recorded.text, recorded.late) == ("declined", True)
    assert replies(records) == [render_response_reply(
        ResponseReply.DECLINED_LATE, Lang.FR, SETTINGS, questions=[asked(BOOKED)])]


def test_a_2_no_question_offered_is_no_answer_and_gets_how_to_answer() -> None:
    booked = json.loads(LINES[0])
    booked["event"]["appointment"]["location"]["patient_responses"]["decline"] = False
    records = play(booked, {"at": at("14:02"), "sms": {"from": MOBILE, "body": "2"}})

    assert steps(records)[:2] == [(SimulatedOutcome.RECEIVED, "2"),
                                  (SimulatedOutcome.CALLBACK, "reply.unmatched")]
    assert replies(records) == [render_response_reply(
        ResponseReply.UNCLEAR, Lang.FR, SETTINGS, questions=[asked(booked)])]
    assert "si vous ne pouvez pas venir" not in replies(records)[0]
    assert all(r.outcome is not SimulatedOutcome.RECORDED for r in records)


def test_an_answer_without_a_code_to_two_questions_gets_the_clarification() -> None:
    second = json.loads(LINES[0])
    second["event"]["event_id"] = "ros-9"
    second["event"]["appointment"]["reference"] = "2026000006"
    second["event"]["appointment"]["start"] = "2026-06-11T09:00:00"
    records = play(BOOKED, second, {"at": "2026-06-08T10:00:00-04:00",
                                    "sms": {"from": MOBILE, "body": "1"}})

    [clarification] = replies(records)
    assert clarification.startswith("Rendez-vous santé - Vous avez plus d'un RV.")
    assert "2026-06-10 14:00, code" in clarification
    assert "2026-06-11 09:00, code" in clarification
    assert all(r.outcome is not SimulatedOutcome.RECORDED for r in records)


def test_a_key_after_the_appointment_moved_records_nothing_and_says_so() -> None:
    moved = json.loads(LINES[0])
    moved["at"] = at("14:03")
    moved["event"].update(event_id="ros-8", type="appointment.modified", version=2,
                          occurred_at=at("14:03"))
    moved["event"]["appointment"]["start"] = "2026-06-10T15:00:00"
    # Texts only from now on: no call about the change takes the reminder call's place.
    moved["event"]["appointment"]["patient"]["modes"] = ["sms"]
    records = play(BOOKED, moved, {"at": at("14:05"),
                                   "keypress": {"reference": "2026000005", "digits": "1"}})

    assert steps(records)[-3:] == [
        (SimulatedOutcome.RECEIVED, "1"), (SimulatedOutcome.NOT_APPLIED, "moved"),
        (SimulatedOutcome.REPLIED, spoken(KeypadPart.CHANGED, Lang.FR, SETTINGS))]


def test_free_text_is_never_shown() -> None:
    out = io.StringIO()
    assert run(CONVERSATION, SETTINGS, out) == 0
    assert "travailler" not in out.getvalue()


@pytest.mark.parametrize(("line", "path", "words"), [
    ({"at": at("14:00"), "sms": {"from": "555-0166", "body": "1"}}, "sms.from",
     "international form"),
    ({"at": at("14:00"), "sms": {"from": MOBILE}}, "sms.body", "required"),
    ({"at": at("14:00"), "keypress": {"reference": "2026000005", "digits": "12"}},
     "keypress.digits", "should match"),
    ({"at": at("14:00"), "keypress": {"reference": "2026000099", "digits": "1"}},
     "keypress.reference", "names no appointment of an earlier event line"),
    ({"at": at("14:00"), "keypress": {"reference": "2026000005", "digits": "1",
                                      "answered_by": "robot"}},
     "keypress.answered_by", "'human' or 'machine'"),
    ({"at": at("14:00"), "sms": {"from": MOBILE, "body": "1"},
      "keypress": {"reference": "2026000005", "digits": "1"}},
     "", "needs exactly one of event, sms or keypress (it has sms and keypress)"),
    ({"at": at("14:00")}, "", "needs exactly one of event, sms or keypress"),
])
def test_a_bad_text_or_key_line_is_named_with_its_field(
    line: dict[str, object], path: str, words: str
) -> None:
    with pytest.raises(TimelineError) as caught:
        load_timeline([LINES[0], json.dumps(line)])
    assert (caught.value.line, caught.value.path) == (2, path)
    assert words in caught.value.problem
    assert "555-0166" not in str(caught.value)


# -- opt-outs -------------------------------------------------------------------------


def one_number(*modes: str) -> dict[str, object]:
    """The booking, with texts and calls to the same mobile number (and email too, if
    among ``modes``)."""
    booked = json.loads(LINES[0])
    patient = booked["event"]["appointment"]["patient"]
    patient.update(home_phone=MOBILE, email="mathieu.gagnon@example.org", modes=list(modes))
    return booked


def last_reminders(records: list[Record]) -> dict[Channel | None, tuple[object, ...]]:
    """The 1-day reminders (9 June): what became of each, by channel."""
    return {r.channel: (r.outcome, r.reason) for r in records
            if r.kind == "reminder" and r.local.day == 9}


def text(when: str, body: str, *, day: int = 7) -> dict[str, object]:
    return {"at": f"2026-06-{day:02}T{when}:00-04:00", "sms": {"from": MOBILE, "body": body}}


def test_an_arret_opts_the_number_out_of_texts_and_the_next_reminder_is_dropped() -> None:
    records = play(one_number("sms", "voice", "email"), text("14:10", "Arrêt"))

    # The booking system whose texts went to the number is told, as by the webhook.
    assert steps(records)[-4:] == [
        (SimulatedOutcome.RECEIVED, "ARRET"), (SimulatedOutcome.OPTED_OUT, "texts_stopped"),
        (SimulatedOutcome.CALLBACK, "contact.opted_out"),
        (SimulatedOutcome.REPLIED, render_reply(parse("ARRET"), SETTINGS))]
    # Dropped when it leaves, as the send step does; the call to the same number and the
    # email still go.
    assert last_reminders(records) == {
        Channel.SMS: (SimulatedOutcome.DROPPED, Reason.OPTED_OUT),
        Channel.VOICE: (SimulatedOutcome.SENT, None),
        Channel.EMAIL: (SimulatedOutcome.SENT, None)}


def test_the_report_says_opted_out_in_the_words_of_the_messages_status() -> None:
    records = play(one_number("sms"), text("14:10", "STOP"))
    [dropped] = [r for r in records if r.outcome is SimulatedOutcome.DROPPED]
    for lang in Lang:
        assert format_record(dropped, lang).endswith(
            f"opted_out: {describe_reason('opted_out', lang)}")


def test_a_reprise_opts_the_number_back_in_and_the_next_reminder_is_sent() -> None:
    records = play(one_number("sms"), text("14:10", "ARRET"), text("10:00", "Reprise", day=8))

    assert steps(records)[-4:] == [
        (SimulatedOutcome.RECEIVED, "REPRISE"), (SimulatedOutcome.OPTED_IN, "texts_resumed"),
        (SimulatedOutcome.CALLBACK, "contact.opted_in"),
        (SimulatedOutcome.REPLIED, render_reply(parse("REPRISE"), SETTINGS))]
    assert last_reminders(records) == {Channel.SMS: (SimulatedOutcome.SENT, None)}


def test_key_9_opts_the_number_called_out_of_calls_and_texts_still_go() -> None:
    records = play(one_number("sms", "voice"), {"at": at("14:05"), "keypress": {
        "reference": "2026000005", "digits": "9"}})

    assert steps(records)[-4:] == [
        (SimulatedOutcome.RECEIVED, "9"), (SimulatedOutcome.OPTED_OUT, "calls_stopped"),
        (SimulatedOutcome.CALLBACK, "contact.opted_out"),
        (SimulatedOutcome.REPLIED, spoken(KeypadPart.STOPPED, Lang.FR, SETTINGS))]
    assert last_reminders(records) == {
        Channel.SMS: (SimulatedOutcome.SENT, None),
        Channel.VOICE: (SimulatedOutcome.DROPPED, Reason.OPTED_OUT)}


def test_a_second_arret_changes_nothing_tells_nothing_and_is_answered_again() -> None:
    records = play(one_number("sms"), text("14:10", "ARRET"), text("14:11", "STOP"))
    assert steps(records)[-3:] == [
        (SimulatedOutcome.RECEIVED, "STOP"),
        (SimulatedOutcome.OPTED_OUT, "texts_still_stopped"),
        (SimulatedOutcome.REPLIED, render_reply(parse("STOP"), SETTINGS))]


def test_an_opted_out_numbers_answer_is_recorded_and_told_but_not_answered() -> None:
    records = play(one_number("sms"), text("14:10", "ARRET"), text("14:12", "1"))

    assert steps(records)[-4:] == [
        (SimulatedOutcome.RECEIVED, "1"), (SimulatedOutcome.RECORDED, "confirmed"),
        (SimulatedOutcome.CALLBACK, "appointment.patient_confirmed"),
        (SimulatedOutcome.UNANSWERED, "opted_out")]


@pytest.mark.parametrize(("body", "answered"), [
    ("Merci", False),  # not even the "we do not reply" notice
    ("Je dois travailler", False),  # no answer while asked: told, not answered
    ("AIDE", True),  # HELP and INFO are answered even to an opted-out number
    ("INFO", True),
])
def test_an_opted_out_number_gets_no_answer_but_to_help_and_info(
    body: str, answered: bool
) -> None:
    # Before the 3-day reminder, no question is open: "Merci" would get the notice.
    before = play(one_number("sms"), text("14:10", "ARRET", day=6), text("14:12", body, day=6))
    during = play(one_number("sms"), text("14:10", "ARRET"), text("14:12", body))
    for records in (before, during) if body != "Je dois travailler" else (during,):
        last = steps(records)[-1]
        assert (last[0] is SimulatedOutcome.REPLIED) is answered
        if not answered:
            assert last == (SimulatedOutcome.UNANSWERED, "opted_out")


def test_an_opt_out_of_a_number_no_location_wrote_to_is_told_to_no_one() -> None:
    stranger = {"at": at("14:10"), "sms": {"from": "+15145550199", "body": "STOP"}}
    assert steps(play(BOOKED, stranger))[-3:] == [
        (SimulatedOutcome.RECEIVED, "STOP"), (SimulatedOutcome.OPTED_OUT, "texts_stopped"),
        (SimulatedOutcome.REPLIED, render_reply(parse("STOP"), SETTINGS))]


# -- the webhook's limits on replies ----------------------------------------------------


def test_a_fourth_stop_the_same_utc_day_opts_out_still_but_gets_no_reply() -> None:
    # 3 replies per kind per UTC day: STOP and ARRET count together; 20:00 in Montréal
    # (EDT) is the next UTC day.
    stops = [text(when, word) for when, word in
             [("14:10", "STOP"), ("14:11", "ARRET"), ("14:12", "REPRISE"), ("14:13", "Stop"),
              ("19:59", "FIN"), ("20:00", "STOP")]]
    records = play(one_number("sms"), *stops)

    said = [step for step in steps(records)
            if step[0] in (SimulatedOutcome.REPLIED, SimulatedOutcome.UNANSWERED)]
    stop_reply = render_reply(parse("STOP"), SETTINGS)
    assert said == [
        (SimulatedOutcome.REPLIED, stop_reply),
        (SimulatedOutcome.REPLIED, render_reply(parse("ARRET"), SETTINGS)),
        (SimulatedOutcome.REPLIED, render_reply(parse("REPRISE"), SETTINGS)),
        (SimulatedOutcome.REPLIED, stop_reply),
        (SimulatedOutcome.UNANSWERED, "daily_limit"),  # the fourth of the day: FIN
        (SimulatedOutcome.REPLIED, stop_reply)]  # a new UTC day
    opted = [r.text for r in records if r.outcome is SimulatedOutcome.OPTED_OUT]
    assert opted == ["texts_stopped", "texts_still_stopped", "texts_stopped",
                     "texts_still_stopped", "texts_still_stopped"]


def test_the_same_answer_a_fourth_time_is_repeated_without_a_reply() -> None:
    records = play(BOOKED, *(text(f"14:1{n}", "1") for n in range(4)))
    last = steps(records)[-3:]
    assert last == [(SimulatedOutcome.RECEIVED, "1"),
                    (SimulatedOutcome.REPEATED, "confirmed"),
                    (SimulatedOutcome.UNANSWERED, "daily_limit")]
    assert len(replies(records)) == 3


def test_the_we_do_not_reply_notice_goes_once_per_interval() -> None:
    # No question open before the 3-day reminder: "Merci" gets the notice, once a day.
    records = play(BOOKED, *(text(when, "Merci", day=day) for when, day in
                             [("09:00", 5), ("18:00", 5), ("08:59", 6), ("09:00", 6)]))
    assert [s for s in steps(records) if s[0] is not SimulatedOutcome.RECEIVED] == [
        (SimulatedOutcome.REPLIED, render_reply(parse("Merci"), SETTINGS)),
        (SimulatedOutcome.UNANSWERED, "notice_recently_sent"),
        (SimulatedOutcome.UNANSWERED, "notice_recently_sent"),
        (SimulatedOutcome.REPLIED, render_reply(parse("Merci"), SETTINGS))]


def test_where_twilio_answers_its_own_words_the_gateway_stays_silent_on_them() -> None:
    settings = Settings(twilio_answers_english_keywords=True)
    lines = [one_number("sms"), text("14:10", "STOP"), text("14:11", "ARRET"),
             text("14:12", "AIDE"), text("14:13", "HELP")]
    records = simulate(load_timeline(json.dumps(line) for line in lines), settings)

    said = [step for step in steps(records)
            if step[0] in (SimulatedOutcome.REPLIED, SimulatedOutcome.UNANSWERED)]
    assert said == [
        (SimulatedOutcome.UNANSWERED, "answered_by_twilio"),  # STOP: Twilio answers
        (SimulatedOutcome.REPLIED, render_reply(parse("ARRET"), settings)),
        (SimulatedOutcome.REPLIED, render_reply(parse("AIDE"), settings)),
        (SimulatedOutcome.UNANSWERED, "answered_by_twilio")]
    # The change is made all the same.
    opted = [detail for outcome, detail in steps(records)
             if outcome is SimulatedOutcome.OPTED_OUT]
    assert opted == ["texts_stopped", "texts_still_stopped"]
