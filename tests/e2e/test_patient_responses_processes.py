"""Patient responses through the real processes: a location that asks; its reminder (or
its booking confirmation) reaches the loopback Twilio with the question; the patient's
texts, signed as Twilio signs them, reach ``notifier web``, which answers in TwiML; the
callbacks worker tells the booking system's receiver (signatures checked with the
standardwebhooks package) what the patient answered; the booking system cancels and the
patient gets the usual cancellation, and a late answer changes nothing. A number with two
open questions is asked which appointment, and answers with the code."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis

from notifier.callbacks.events import callback_events
from notifier.domain import Lang
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.responses import OpenQuestion
from notifier.responses.replies import ResponseReply, render_response_reply
from notifier.settings import Settings
from notifier.store.callback_log import CallbackLog
from notifier.store.keys import Keys
from notifier.store.responses import ResponseStore
from tests.e2e.conftest import PUBLIC, SMS_FROM, Launch, booking_system, start_gateway
from tests.factories import ZONE, event
from tests.fakes.incoming_texts import Delivery, IncomingTexts
from tests.fakes.twilio_server import FakeTwilio, Record
from tests.fakes.webhook_receiver import FakeReceiver, Received
from tests.harness import GatewayConfig, wait_until

pytestmark = pytest.mark.slow

WAIT = 30.0  # seconds for a message, a question or a callback to arrive
REMINDER_OFFSET = dt.timedelta(hours=20)  # a single reminder, 20 h before the start
REMINDER_SOON = dt.timedelta(seconds=6)  # how soon after the booking it falls due
ASKING = {**SAMPLE_LOCATION.model_dump(mode="json"), "cancellation_notice_minutes": 60,
          "patient_responses": {"channels": ["sms"]}}
RESPONSE_TYPES = ("appointment.patient_confirmed", "appointment.patient_declined")


@dataclass
class Gateway:
    """The running gateway, the booking system's receiver and the patients' phones."""

    settings: Settings
    redis: redis.Redis
    web_url: str
    token: str
    twilio: FakeTwilio
    receiver: FakeReceiver
    texts: IncomingTexts

    @property
    def responses(self) -> ResponseStore:
        return ResponseStore(self.redis, self.settings)

    def post_event(self, kind: str, *, reference: str, version: int, start: dt.datetime,
                   mobile: str, language: str, location: dict[str, Any]) -> None:
        """The booking system posts an event about a patient told by SMS only."""
        patient = {"first_name": "Maëlle", "last_name": "Thibodeau", "language": language,
                   "mobile_phone": mobile, "modes": ["sms"]}
        body = event(kind, version=version, start=start, at=dt.datetime.now(dt.UTC),
                     reference=reference, location=location, patient=patient,
                     modes=("sms",)).model_dump(mode="json")
        answer = httpx.post(f"{self.web_url}/v1/events", json=body, timeout=10,
                            headers={"Authorization": f"Bearer {self.token}"})
        assert answer.status_code == 202, answer.text

    def sms_to(self, number: str, count: int) -> list[Record]:
        """The first ``count`` texts taken for ``number``, once they are there."""
        def taken() -> list[Record]:
            return [m for m in self.twilio.messages if m.to == number]

        wait_until(lambda: len(taken()) >= count, timeout=WAIT,
                   what=f"{count} texts for the patient",
                   hint=lambda: "\n".join(m.body or "" for m in taken()))
        return taken()[:count]

    def question(self, number: str, reference: str, send_key_part: str) -> OpenQuestion:
        """The open question about ``reference``, once the message whose send key holds
        ``send_key_part`` opened it (when its provider took it)."""
        def found() -> OpenQuestion | None:
            for question in self.responses.questions(number).questions:
                if question.reference == reference and send_key_part in question.send_key:
                    return question
            return None

        wait_until(lambda: found() is not None, timeout=WAIT,
                   what=f"the question about {reference} to open")
        question = found()
        assert question is not None
        return question

    def logged(self, *types: str) -> list[dict[str, Any]]:
        """The callback events the log holds, oldest first, of ``types`` (all if none)."""
        log = CallbackLog(self.redis, keys=Keys(self.settings.queue_prefix))
        events = [e for entry in log.read(after=None, count=10_000)
                  for e in callback_events(entry)]
        return [e for e in events if not types or e["type"] in types]

    def received(self) -> list[dict[str, Any]]:
        """The callbacks the receiver got, once it got every one the log owes it, each
        once and in the log's order (they may arrive in any order), after checking that
        each was signed and that it got nothing the log does not hold."""
        def owed() -> list[str]:
            return [str(e["id"]) for e in self.logged()]

        def got() -> dict[str, Received]:
            return {r.headers.get("webhook-id", ""): r for r in self.receiver.received}

        # Read the log again each time: a message handed over meanwhile owes one more.
        wait_until(lambda: set(owed()) == set(got()), timeout=WAIT,
                   what="the receiver to get every callback the log owes, and nothing else",
                   hint=lambda: f"owed {owed()}, got {list(got())}")
        ids, received = owed(), got()
        assert set(ids) == set(received) and all(r.verified for r in received.values())
        return [json.loads(received[webhook_id].body) for webhook_id in ids]


@pytest.fixture
def gateway(base_config: GatewayConfig, launch: Launch, fake_twilio: FakeTwilio,
            redis_client: redis.Redis) -> Iterator[Gateway]:
    config = base_config.with_values(
        callbacks_allow_private=True, reminder_offsets=f"{int(REMINDER_OFFSET.total_seconds())}s",
        keyword_reply_limit=20)
    settings = config.settings()
    with booking_system(redis_client, settings,
                        locations=frozenset({SAMPLE_LOCATION.id})) as agenda:
        processes = launch(config)
        web_url = start_gateway(processes, fake_twilio, threads=2)
        with IncomingTexts(fake_twilio, gateway_url=web_url, public_base_url=PUBLIC,
                           to=SMS_FROM) as texts:
            yield Gateway(settings, redis_client, web_url, agenda.token, fake_twilio,
                          agenda.receiver, texts)
        output = processes.output()
    assert "incoming sms" in output  # the web process's log is there to read
    assert "5550151" not in output and "5550161" not in output, "a log names a patient's number"


def replied(delivery: Delivery) -> str | None:
    assert delivery.status == 200, delivery
    return delivery.reply


def whole_seconds(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0).astimezone(ZONE)


MOBILE = "+15145550151"
REFERENCE = "0000900001"


def test_a_patient_confirms_then_cannot_come_the_booking_system_cancels_and_a_late_answer_changes_nothing(  # noqa: E501
    gateway: Gateway,
) -> None:
    start = whole_seconds(dt.datetime.now(dt.UTC) + REMINDER_OFFSET + REMINDER_SOON)
    gateway.post_event("booked", reference=REFERENCE, version=1, start=start, mobile=MOBILE,
                       language="fr", location=ASKING)

    # The confirmation asks nothing; the reminder asks, and opens the question once Twilio
    # took it.
    confirmation, reminder = gateway.sms_to(MOBILE, 2)
    assert "Répondez" not in (confirmation.body or "")
    assert "Répondez 1 pour confirmer, 2 si vous ne pouvez pas venir." in (reminder.body or "")
    question = gateway.question(MOBILE, REFERENCE, ":reminder:")
    assert gateway.logged(*RESPONSE_TYPES) == []

    def expected(kind: ResponseReply) -> str:
        return render_response_reply(kind, Lang.FR, gateway.settings, questions=(question,))

    # "1": confirmed, answered in TwiML, told to the booking system; a repeat tells nothing.
    assert replied(gateway.texts.send(MOBILE, "1")) == expected(ResponseReply.CONFIRMED)
    assert replied(gateway.texts.send(MOBILE, "Oui!")) == expected(ResponseReply.CONFIRMED)
    # "2": the patient changed their mind; the latest answer wins and is told.
    assert replied(gateway.texts.send(MOBILE, "2")) == expected(ResponseReply.DECLINED)
    stored = gateway.responses.response(REFERENCE)
    assert stored is not None and str(stored.answer) == "declined"

    told = [e for e in gateway.received() if e["type"] in RESPONSE_TYPES]
    assert [e["type"] for e in told] == list(RESPONSE_TYPES)
    for body, answer in zip(told, ("confirmed", "declined"), strict=True):
        assert body["data"] == {
            "reference": REFERENCE, "location_id": SAMPLE_LOCATION.id, "version": 1,
            "response": answer, "channel": "sms", "answered_at": body["timestamp"],
            "past_cancellation_deadline": False, "sequence": body["data"]["sequence"],
        }
    assert told[0]["data"]["sequence"] < told[1]["data"]["sequence"]

    # The booking system cancels: the usual cancellation goes, and the answer that comes
    # after it changes nothing and tells nothing.
    gateway.post_event("cancelled", reference=REFERENCE, version=2, start=start,
                       mobile=MOBILE, language="fr", location=ASKING)
    cancellation = gateway.sms_to(MOBILE, 3)[-1]
    assert (cancellation.body or "").startswith("Rendez-vous annulé pour Maëlle")
    assert "Répondez" not in (cancellation.body or "")
    assert replied(gateway.texts.send(MOBILE, "1")) == expected(ResponseReply.CHANGED)

    assert [e["type"] for e in gateway.logged(*RESPONSE_TYPES)] == list(RESPONSE_TYPES)
    stored = gateway.responses.response(REFERENCE)
    assert stored is not None and str(stored.answer) == "declined"
    told = [e for e in gateway.received() if e["type"] in RESPONSE_TYPES]
    assert [e["type"] for e in told] == list(RESPONSE_TYPES)
    # No callback carries the number or what the patient wrote.
    everything = json.dumps(gateway.received(), ensure_ascii=False)
    assert "5550151" not in everything and "Oui!" not in everything


FAMILY_MOBILE = "+14165550161"
FIRST, SECOND = "0000900011", "0000900012"
ASKING_AT_BOOKING = {**ASKING, "patient_responses": {"channels": ["sms"],
                                                     "ask_in_confirmation": True}}


def test_two_open_questions_get_a_clarification_then_the_code_answers_one(
    gateway: Gateway,
) -> None:
    now = dt.datetime.now(dt.UTC)
    first_start = whole_seconds(now + dt.timedelta(days=2))
    second_start = whole_seconds(now + dt.timedelta(days=3))
    gateway.post_event("booked", reference=FIRST, version=1, start=first_start,
                       mobile=FAMILY_MOBILE, language="en", location=ASKING_AT_BOOKING)
    [first_sms] = gateway.sms_to(FAMILY_MOBILE, 1)
    assert "Reply 1 to confirm, 2 if you cannot come." in (first_sms.body or "")
    first = gateway.question(FAMILY_MOBILE, FIRST, ":confirmation:")

    # The number has an open question: the next one shows its code.
    gateway.post_event("booked", reference=SECOND, version=1, start=second_start,
                       mobile=FAMILY_MOBILE, language="en", location=ASKING_AT_BOOKING)
    second_sms = gateway.sms_to(FAMILY_MOBILE, 2)[-1]
    second = gateway.question(FAMILY_MOBILE, SECOND, ":confirmation:")
    assert first.code != second.code
    assert (f"Reply 1 {second.code} to confirm, 2 {second.code} if you cannot come."
            in (second_sms.body or ""))

    def expected(kind: ResponseReply, *questions: OpenQuestion) -> str:
        return render_response_reply(kind, Lang.EN, gateway.settings, questions=questions)

    # No code, two appointments on different days: which one?
    clarification = replied(gateway.texts.send(FAMILY_MOBILE, "1"))
    assert clarification == expected(ResponseReply.CLARIFY, first, second)
    assert first.code in clarification and second.code in clarification
    assert gateway.logged(*RESPONSE_TYPES) == []

    # The code answers one, whichever side it is on.
    assert replied(gateway.texts.send(FAMILY_MOBILE, f"2 {second.code}")) == expected(
        ResponseReply.DECLINED, second)
    # Free text is no answer: the patient is told how to answer, the booking system that
    # a text needs a human (never the text), and nothing is recorded.
    late = "I'll be 10 minutes late"
    assert replied(gateway.texts.send(FAMILY_MOBILE, late)) == expected(
        ResponseReply.UNCLEAR, first, second)
    assert gateway.responses.response(FIRST) is None
    assert replied(gateway.texts.send(FAMILY_MOBILE, f"ok {first.code}")) == expected(
        ResponseReply.CONFIRMED, first)

    told = [(e["type"], e["data"].get("reference") or e["data"].get("references"))
            for e in gateway.received()
            if e["type"] in (*RESPONSE_TYPES, "reply.unmatched")]
    assert told == [("appointment.patient_declined", SECOND),
                    ("reply.unmatched", [FIRST, SECOND]),
                    ("appointment.patient_confirmed", FIRST)]
    assert "minutes late" not in json.dumps(gateway.received())
