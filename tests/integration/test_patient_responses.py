"""Patient responses by SMS through the real send step, the real webhook and a real Redis:
a question opens when its message is handed over, an answer is recorded with its
callback, repeats tell nothing, ARRET stays an opt-out, an answer to a changed appointment
changes nothing, several questions get a clarification and codes, concurrent answers end
with one stored answer that the last callback agrees with, and with the option off nothing
changes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from notifier.callbacks.events import callback_event
from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel, Kind, Lang
from notifier.inbound.keywords import OTHER
from notifier.inbound.replies import render_reply
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.planning.entries import PlannedMessage
from notifier.responses import Answer, OpenQuestion
from notifier.responses.replies import ResponseReply, render_response_reply
from notifier.sending import SendOutcome
from notifier.store.callback_log import CallbackLog, LogEntry
from notifier.store.intake import Intake
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutStore
from notifier.store.responses import ResponseStore
from notifier.web import create_app
from tests.factories import event, local
from tests.integration.conftest import Gateway
from tests.integration.test_inbound_webhook import (
    API_TOKEN,
    AUTH_TOKEN,
    PUBLIC_BASE_URL,
    TwilioSender,
)

START = local(2026, 12, 1, 9, 30)
MOBILE = "+15145550188"
ASKING = {**SAMPLE_LOCATION.model_dump(mode="json"),
          "patient_responses": {"ask_in_confirmation": True}}
RESPONSE_TYPES = ("appointment.patient_confirmed", "appointment.patient_declined")


@pytest.fixture
def gateway_options() -> dict[str, object]:
    return {"api_token": API_TOKEN, "twilio_auth_token": AUTH_TOKEN,
            "public_base_url": PUBLIC_BASE_URL}


class PatientTexts(TwilioSender):
    """Texts from the booked patient's mobile."""

    def reply(self, body: str, **options: object) -> str | None:
        options.setdefault("number", MOBILE)
        return super().reply(body, **options)


@pytest.fixture
def twilio(gateway: Gateway) -> Iterator[TwilioSender]:
    app = create_app(gateway.settings, redis=gateway.client, clock=gateway.clock)
    with TestClient(app) as http:
        yield PatientTexts(http)


def book(gateway: Gateway, *, reference: str = "0000000001", start: dt.datetime = START,
         location: dict[str, Any] | None = None, kind: str = "booked",
         version: int = 1) -> list[SendOutcome]:
    """Apply an event and send every SMS it makes due now; returns their outcomes."""
    intake = Intake(gateway.client, gateway.settings)
    now = gateway.clock()
    intake.accept(event(kind, start=start, at=now, modes=("sms",), reference=reference,
                        version=version, location=location or ASKING), now)
    claimed = intake.schedule.claim(now)
    intake.schedule.ack(claimed)
    step = gateway.send_step()
    return [step(json.loads(payload)) for payload in claimed]


def sms_text(gateway: Gateway, reference: str) -> str:
    """The last SMS the outbox holds for ``reference``."""
    files = [f for f in gateway.outbox_files() if f.name.startswith(reference)]
    return files[-1].read_text().split("\n\n", 1)[1].strip()


def responses_logged(gateway: Gateway) -> list[LogEntry]:
    entries = CallbackLog(gateway.client, keys=Keys(gateway.settings.queue_prefix)).read(
        after=None, count=1000)
    return [e for e in entries if e.fields["type"] in (*RESPONSE_TYPES, "reply.unmatched")]


def store(gateway: Gateway) -> ResponseStore:
    return ResponseStore(gateway.client, gateway.settings)


def open_question(gateway: Gateway, reference: str) -> OpenQuestion:
    [question] = [q for q in store(gateway).questions(MOBILE).questions
                  if q.reference == reference]
    return question


def expected(gateway: Gateway, kind: ResponseReply, *questions: OpenQuestion) -> str:
    return render_response_reply(kind, Lang.FR, gateway.settings, questions=questions)


def test_a_reply_confirms_and_tells_the_booking_system_once(
    gateway: Gateway, twilio: TwilioSender
) -> None:
    assert book(gateway) == [SendOutcome.SENT]
    assert sms_text(gateway, "0000000001").endswith(
        "Répondez 1 pour confirmer, 2 si vous ne pouvez pas venir. Frais msg/données "
        "applicables")
    question = open_question(gateway, "0000000001")

    assert twilio.reply("Oui") == expected(gateway, ResponseReply.CONFIRMED, question)
    # A repeat is answered the same way and tells nothing new.
    assert twilio.reply("1") == expected(gateway, ResponseReply.CONFIRMED, question)

    [entry] = responses_logged(gateway)
    body = callback_event(entry)
    assert body["type"] == "appointment.patient_confirmed"
    assert body["data"] == {
        "reference": "0000000001", "location_id": SAMPLE_LOCATION.id, "version": 1,
        "response": "confirmed", "channel": "sms", "answered_at": body["timestamp"],
        "past_cancellation_deadline": False, "sequence": entry.sequence,
    }
    dumped = json.dumps(entry.fields, ensure_ascii=False)
    assert MOBILE not in dumped and "5145550188" not in dumped and "Oui" not in dumped
    response = store(gateway).response("0000000001")
    assert response is not None and response.answer is Answer.CONFIRMED
    assert response.version == 1 and response.who == store(gateway).digest(MOBILE)


def test_a_decline_after_the_cancellation_deadline_is_flagged(
    gateway: Gateway, twilio: TwilioSender
) -> None:
    book(gateway)
    question = open_question(gateway, "0000000001")
    gateway.clock.set(START - dt.timedelta(hours=3))  # the notice is a day

    assert twilio.reply("non") == expected(gateway, ResponseReply.DECLINED_LATE, question)
    [entry] = responses_logged(gateway)
    body = callback_event(entry)
    assert body["type"] == "appointment.patient_declined"
    assert body["data"]["past_cancellation_deadline"] is True  # type: ignore[index]


def test_arret_during_an_open_question_opts_out_and_is_no_decline(
    gateway: Gateway, twilio: TwilioSender
) -> None:
    book(gateway)

    reply = twilio.reply("ARRÊT")

    assert reply is not None and "REPRISE" in reply
    assert OptOutStore(gateway.client, gateway.settings).is_opted_out(MOBILE)
    assert store(gateway).response("0000000001") is None
    assert responses_logged(gateway) == []


def test_yes_opts_in_and_never_confirms(gateway: Gateway, twilio: TwilioSender) -> None:
    book(gateway)

    twilio.reply("YES")

    assert store(gateway).response("0000000001") is None
    assert responses_logged(gateway) == []


def test_a_reply_after_a_modification_gets_changed_and_changes_nothing(
    gateway: Gateway, twilio: TwilioSender
) -> None:
    book(gateway)
    question = open_question(gateway, "0000000001")
    intake = Intake(gateway.client, gateway.settings)
    now = gateway.clock()
    intake.accept(event("modified", start=START + dt.timedelta(hours=2), at=now,
                        modes=("sms",), version=2, location=ASKING), now)

    assert twilio.reply("1") == expected(gateway, ResponseReply.CHANGED, question)
    assert store(gateway).response("0000000001") is None
    assert responses_logged(gateway) == []


def test_a_question_about_a_changed_appointment_shows_no_code_and_asks_nothing(
    gateway: Gateway, twilio: TwilioSender
) -> None:
    book(gateway, reference="0000000001")
    moved = open_question(gateway, "0000000001")
    intake = Intake(gateway.client, gateway.settings)
    now = gateway.clock()
    intake.accept(event("cancelled", start=START, at=now, modes=("sms",), version=2,
                        reference="0000000001", location=ASKING, status="cancelled"), now)
    book(gateway, reference="0000000002", start=START + dt.timedelta(days=2))
    second = open_question(gateway, "0000000002")
    # The first question is still stored (a late answer to it gets "changed"), but it is
    # no reason to show a code, nor to ask which appointment.
    assert moved in store(gateway).questions(MOBILE).questions
    assert "Répondez 1 pour confirmer, 2 si" in sms_text(gateway, "0000000002")
    assert twilio.reply("1") == expected(gateway, ResponseReply.CONFIRMED, second)
    confirmed = store(gateway).response("0000000002")
    assert confirmed is not None and confirmed.answer is Answer.CONFIRMED
    assert store(gateway).response("0000000001") is None


def test_two_questions_get_a_clarification_then_the_code_answers_one(
    gateway: Gateway, twilio: TwilioSender
) -> None:
    book(gateway, reference="0000000001")
    assert "482" not in sms_text(gateway, "0000000001")
    first = open_question(gateway, "0000000001")
    book(gateway, reference="0000000002", start=START + dt.timedelta(days=2))
    second = open_question(gateway, "0000000002")
    assert first.code != second.code
    # The second message shows its code: the number had another open question.
    assert f"Répondez 1 {second.code} pour confirmer, 2 {second.code} si" in sms_text(
        gateway, "0000000002")

    assert twilio.reply("1") == expected(gateway, ResponseReply.CLARIFY, first, second)
    assert responses_logged(gateway) == []

    assert twilio.reply(f"{second.code} 2") == expected(gateway, ResponseReply.DECLINED, second)
    assert store(gateway).response("0000000001") is None
    declined = store(gateway).response("0000000002")
    assert declined is not None and declined.answer is Answer.DECLINED
    # A code that matches no question: the clarification again.
    assert twilio.reply("1 999") == expected(gateway, ResponseReply.CLARIFY, first, second)


def test_concurrent_answers_end_with_one_answer_the_last_callback_agrees_with(
    gateway: Gateway, twilio: TwilioSender
) -> None:
    book(gateway)
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def answer(word: str) -> None:
        try:
            barrier.wait()
            twilio.reply(word)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=answer, args=("1" if i % 2 else "2",))
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    stored = store(gateway).response("0000000001")
    logged = [callback_event(e) for e in responses_logged(gateway)]
    assert stored is not None and logged
    last = logged[-1]["data"]
    assert last["response"] == str(stored.answer)  # type: ignore[index]
    # The highest sequence, which a booking system keeps, is the last told.
    assert max(logged, key=lambda e: e["data"]["sequence"]) is logged[-1]  # type: ignore[index]
    # Each change was told, and only changes: consecutive callbacks never repeat.
    answers = [e["data"]["response"] for e in logged]  # type: ignore[index]
    assert all(a != b for a, b in itertools.pairwise(answers))


def test_free_text_needs_a_human_and_is_told_without_its_text(
    gateway: Gateway, twilio: TwilioSender
) -> None:
    book(gateway)
    question = open_question(gateway, "0000000001")

    assert twilio.reply("Je serai 10 min en retard") == expected(
        gateway, ResponseReply.UNCLEAR, question)

    [entry] = responses_logged(gateway)
    body = callback_event(entry)
    assert body["type"] == "reply.unmatched"
    assert body["data"] == {"location_id": SAMPLE_LOCATION.id, "references": ["0000000001"],
                            "channel": "sms", "received_at": body["timestamp"]}
    assert "retard" not in json.dumps(entry.fields)
    [kept] = store(gateway).needing_human(location=SAMPLE_LOCATION.id)
    assert kept.text == "Je serai 10 min en retard" and MOBILE not in kept.masked
    assert store(gateway).needing_human(location="clinique-ailleurs") == []


def test_a_confirmed_appointment_skips_its_reminders_when_the_location_says_so(
    gateway: Gateway, twilio: TwilioSender
) -> None:
    skipping = {**ASKING, "patient_responses": {"ask_in_confirmation": True,
                                                "skip_reminders_when_confirmed": True}}
    book(gateway, location=skipping)
    twilio.reply("1")
    gateway.clock.set(START - dt.timedelta(days=1))
    intake = Intake(gateway.client, gateway.settings)
    claimed = intake.schedule.claim(gateway.clock())
    intake.schedule.ack(claimed)
    reminders = [json.loads(p) for p in claimed
                 if PlannedMessage.from_json(p).kind == "reminder"]
    assert reminders
    step = gateway.send_step()
    assert [step(r) for r in reminders] == [SendOutcome.SUPPRESSED] * len(reminders)
    record = gateway.client.hgetall(
        Keys(gateway.settings.queue_prefix).delivery(PlannedMessage.from_dict(reminders[0]).key))
    assert record[b"reason"] == b"patient_confirmed"


def test_reminders_ask_and_replace_the_confirmations_question(
    gateway: Gateway, twilio: TwilioSender
) -> None:
    book(gateway)
    first = open_question(gateway, "0000000001")
    gateway.clock.set(START - dt.timedelta(days=1))
    intake = Intake(gateway.client, gateway.settings)
    claimed = intake.schedule.claim(gateway.clock())
    intake.schedule.ack(claimed)
    step = gateway.send_step()
    assert {step(json.loads(p)) for p in claimed} == {SendOutcome.SENT}

    again = open_question(gateway, "0000000001")
    assert again.send_key != first.send_key and again.code == first.code
    assert "Répondez 1 pour confirmer" in sms_text(gateway, "0000000001")


def test_with_the_option_off_nothing_changes(gateway: Gateway, twilio: TwilioSender) -> None:
    off = SAMPLE_LOCATION.model_dump(mode="json")
    book(gateway, location=off)

    assert "Répondez" not in sms_text(gateway, "0000000001")
    keys = Keys(gateway.settings.queue_prefix)
    assert gateway.client.keys(f"{keys.prefix}:questions:*") == []
    assert twilio.reply("1") == render_reply(OTHER, gateway.settings)
    assert gateway.client.keys(f"{keys.prefix}:response:*") == []
    assert responses_logged(gateway) == []


def _open_directly(gateway: Gateway, question: OpenQuestion) -> OpenQuestion:
    """Open ``question`` as the send step's last script does, and read it back."""
    records = gateway.send_step().records
    at = START.astimezone(dt.UTC)
    message = PlannedMessage(reference=question.reference, kind=Kind.REMINDER,
                             channel=Channel.SMS, version=question.version, send_at=at,
                             deadline=at, start=at, offset_seconds=86400)
    records.handed_over(message, provider_id=f"SM{question.reference}",
                        status=DeliveryStatus.SENT, at=gateway.clock(), line={}, took=None,
                        question=store(gateway).opening(MOBILE, question))
    return open_question(gateway, question.reference)


@pytest.mark.parametrize("shown", [True, False])
def test_a_code_the_patient_read_is_never_changed_one_they_did_not_read_may_be(
    gateway: Gateway, shown: bool
) -> None:
    """Two messages to one number handed over at the same instant with the same code."""
    book(gateway, reference="0000000001")
    first = open_question(gateway, "0000000001")
    racing = dataclasses.replace(first, reference="0000000002", send_key="0000000002:x",
                                 code_shown=shown)
    stored = _open_directly(gateway, racing)
    assert (stored.code == first.code) is shown
    assert stored.code_shown is shown
