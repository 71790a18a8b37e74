"""Patient responses by keypress, through the real send step and voice client, the
Twilio-compatible server on loopback and the gateway's web app over real HTTP, on a real
Redis: a reminder call that asks is placed with a ``Url``; Twilio's signed request for it,
once it knows who answered, gets the question for a person and the message alone for
anyone else; keys 1 and 2 are recorded like an answer by text (one callback, repeats tell
nothing, the re-check), 3 repeats, 9 stops calls, and nothing a machine does answers."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import redis

from notifier.callbacks.events import callback_event
from notifier.channels.registry import channel_clients
from notifier.channels.twilio.twiml import ANSWERED_PATH, call_twiml, spoken
from notifier.domain import Channel, Kind, Lang
from notifier.local_redis import free_port
from notifier.messages.catalogue import render
from notifier.messages.keypad import KeypadPart
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.planning.entries import AppointmentState, PlannedMessage
from notifier.responses import Answer
from notifier.sending import SendOutcome, SendStep
from notifier.settings import Settings
from notifier.store.callback_log import CallbackLog, LogEntry
from notifier.store.intake import Intake
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutStore
from notifier.store.responses import ResponseStore
from notifier.web.app import create_app
from tests.app_server import serving
from tests.factories import Clock, event, local
from tests.fakes.conftest_fixtures import fake_twilio
from tests.fakes.twilio_server import FakeTwilio, Record, rebase

__all__ = ["fake_twilio"]  # fixtures

PUBLIC = "https://gateway.example.org"
CALLER_ID = "+15145550001"
HOME = "+15145550199"  # the patient's home phone: where calls go
START = local(2026, 12, 1, 9, 30)
BOOKED_AT = local(2026, 11, 24, 10)
THREE_DAYS_BEFORE, DAY_BEFORE = local(2026, 11, 28, 9, 30), local(2026, 11, 30, 9, 30)
ASKING = {**SAMPLE_LOCATION.model_dump(mode="json"),
          "patient_responses": {"channels": ["voice"]}}
RESPONSE_TYPES = ("appointment.patient_confirmed", "appointment.patient_declined")
MACHINES = ["machine_end_beep", "machine_end_silence", "fax", "unknown"]


@dataclass
class Calls:
    """The gateway's send step and web app, and the fake Twilio that places its calls and
    posts the calls' webhooks to it."""

    settings: Settings
    client: redis.Redis
    clock: Clock
    fake: FakeTwilio
    intake: Intake
    step: SendStep

    def book(self, *, location: dict[str, Any] | None = None, kind: str = "booked",
             version: int = 1, start: dt.datetime = START) -> None:
        now = self.clock()
        self.intake.accept(event(kind, start=start, at=now, modes=("voice",),
                                 version=version, location=location or ASKING), now)

    def send_due(self, at: dt.datetime) -> list[Record]:
        """Move the clock to ``at`` and send what is due; returns the calls placed."""
        self.clock.set(at)
        before = len(self.fake.calls)
        claimed = self.intake.schedule.claim(self.clock())
        self.intake.schedule.ack(claimed)
        for payload in claimed:
            assert self.step(json.loads(payload)) is SendOutcome.SENT
        return self.fake.calls[before:]

    def webhook(self, url: str, call: Record, *, signed: bool = True,
                **fields: str) -> tuple[int, ET.Element | None]:
        """Post a call's webhook as Twilio does (signed, to the public URL); the status
        and the TwiML answered."""
        form = {"AccountSid": self.fake.account_sid, "CallSid": call.sid or "",
                "From": CALLER_ID, "To": HOME, "Direction": "outbound-api",
                "CallStatus": "in-progress", **fields}
        status = self.fake.callback_raw(
            url, form, signature=self.fake.sign(url, form) if signed else None)
        answer = self.fake.callbacks[-1].answer
        return status, ET.fromstring(answer) if status == 200 else None

    def answer(self, call: Record, answered_by: str = "human") -> ET.Element:
        """Twilio's request for what a call says, once detection says who answered."""
        url = call.get("Url")
        assert url is not None and call.get("Method") == "POST"
        status, root = self.webhook(url, call, AnsweredBy=answered_by)
        assert status == 200 and root is not None
        return root

    def press(self, root: ET.Element, call: Record, digits: str,
              **fields: str) -> ET.Element:
        """Press ``digits`` on the menu ``root`` declares (its Gather's action)."""
        status, answer = self.webhook(action(root), call, Digits=digits, **fields)
        assert status == 200 and answer is not None
        return answer

    @property
    def responses(self) -> ResponseStore:
        return ResponseStore(self.client, self.settings)

    def logged(self) -> list[LogEntry]:
        entries = CallbackLog(self.client, keys=Keys(self.settings.queue_prefix)).read(
            after=None, count=1000)
        return [e for e in entries if e.fields["type"] in RESPONSE_TYPES]

    def said(self, part: KeypadPart) -> str:
        return spoken(part, Lang.FR, self.settings)


def action(root: ET.Element) -> str:
    gather = root.find("Gather")
    assert gather is not None
    return gather.get("action") or ""


def texts(root: ET.Element) -> list[str]:
    return [say.text or "" for say in root.iter("Say")]


def menu(root: ET.Element) -> str:
    """What the call says inside its keypad menu (the goodbye after it aside)."""
    gather = root.find("Gather")
    assert gather is not None
    (said,) = texts(gather)
    return said


def hangs_up_saying(root: ET.Element, sentence: str) -> bool:
    return texts(root) == [sentence] and root[-1].tag == "Hangup"


@pytest.fixture
def calls(redis_url: str, redis_client: redis.Redis, fake_twilio: FakeTwilio,
          tmp_path: Any) -> Iterator[Calls]:
    settings = Settings(
        redis_url=redis_url, outbox_dir=tmp_path / "outbox", api_token="t" * 32,
        window_voice="always", public_base_url=PUBLIC, twilio_voice_from=CALLER_ID,
        twilio_sms_from="+15145550000", **fake_twilio.settings_overrides(),
    )
    clock = Clock(BOOKED_AT)
    step = SendStep(redis_client, settings,
                    channels=channel_clients(settings, clock=clock, redis=redis_client),
                    opt_outs=OptOutStore(redis_client, settings), limiters={}, clock=clock,
                    sleep=lambda _: None)
    port = free_port()
    fake_twilio.deliver_to = rebase(PUBLIC, f"http://127.0.0.1:{port}")
    with serving(create_app(settings, redis=redis_client, clock=clock), port):
        yield Calls(settings, redis_client, clock, fake_twilio, Intake(redis_client, settings),
                    step)


@pytest.fixture
def asked(calls: Calls) -> tuple[Record, ET.Element]:
    """The three-days reminder call, answered by a person: the call and what it says."""
    calls.book()
    calls.send_due(BOOKED_AT)  # the booking confirmation, which does not ask
    (call,) = calls.send_due(THREE_DAYS_BEFORE)
    return call, calls.answer(call)


def test_a_reminder_call_that_asks_is_placed_with_a_url_and_asks_only_a_person(
    calls: Calls, asked: tuple[Record, ET.Element]
) -> None:
    call, root = asked
    confirmation, _ = calls.fake.calls
    # The confirmation does not ask: it keeps its inline TwiML.
    assert confirmation.twiml is not None and confirmation.get("Url") is None
    assert call.twiml is None and call.get("MachineDetection") == "DetectMessageEnd"
    url = urlsplit(call.get("Url") or "")
    assert url.path == ANSWERED_PATH and parse_qs(url.query)["lang"] == ["fr"]
    said = menu(root)
    for part in (KeypadPart.CONFIRM_OPTION, KeypadPart.DECLINE_OPTION,
                 KeypadPart.REPEAT_OPTION, KeypadPart.STOP_OPTION):
        assert calls.said(part) in said
    assert "appuyez sur le 1." not in said.split(calls.said(KeypadPart.CONFIRM_OPTION))[0]
    query = parse_qs(urlsplit(action(root)).query)
    assert (query["asks"], query["decline"]) == (["1"], ["1"])
    (question,) = calls.responses.questions(HOME).questions
    assert question.channel is Channel.VOICE and question.send_key.endswith(
        "reminder:voice:259200:20261201T1430Z")


def test_the_booking_confirmation_call_asks_when_the_location_wants_it(calls: Calls) -> None:
    calls.book(location={**ASKING, "patient_responses": {"channels": ["voice"],
                                                          "ask_in_confirmation": True}})
    (call,) = calls.send_due(BOOKED_AT)

    assert call.twiml is None
    root = calls.answer(call)
    assert calls.said(KeypadPart.CONFIRM_OPTION) in menu(root)
    assert hangs_up_saying(calls.press(root, call, "1"), calls.said(KeypadPart.CONFIRMED))
    assert [e.fields["type"] for e in calls.logged()] == ["appointment.patient_confirmed"]


def test_1_confirms_once_and_tells_the_booking_system_once(
    calls: Calls, asked: tuple[Record, ET.Element]
) -> None:
    call, root = asked
    first = calls.press(root, call, "1")
    again = calls.press(root, call, "1")  # a second press: the same words, nothing new

    assert hangs_up_saying(first, calls.said(KeypadPart.CONFIRMED))
    assert hangs_up_saying(again, calls.said(KeypadPart.CONFIRMED))
    [entry] = calls.logged()
    body = callback_event(entry)
    assert body["type"] == "appointment.patient_confirmed"
    assert body["data"] == {
        "reference": "0000000001", "location_id": SAMPLE_LOCATION.id, "version": 1,
        "response": "confirmed", "channel": "voice", "answered_at": body["timestamp"],
        "past_cancellation_deadline": False, "sequence": entry.sequence,
    }
    assert HOME not in json.dumps(entry.fields) and "5145550199" not in json.dumps(entry.fields)
    response = calls.responses.response("0000000001")
    assert response is not None and response.answer is Answer.CONFIRMED
    assert response.channel is Channel.VOICE and response.who == calls.responses.digest(HOME)


def test_2_on_the_day_before_declines_past_the_cancellation_deadline(calls: Calls) -> None:
    calls.book()
    calls.send_due(BOOKED_AT)
    calls.send_due(THREE_DAYS_BEFORE)
    (call,) = calls.send_due(DAY_BEFORE)  # the cancellation deadline is 24 h before
    root = calls.answer(call)
    calls.clock.advance(dt.timedelta(minutes=1))

    said = calls.press(root, call, "2")

    assert hangs_up_saying(said, calls.said(KeypadPart.DECLINED))
    [entry] = calls.logged()
    body = callback_event(entry)
    assert body["type"] == "appointment.patient_declined"
    assert body["data"]["past_cancellation_deadline"] is True  # type: ignore[index]
    assert body["data"]["channel"] == "voice"  # type: ignore[index]


def test_a_later_answer_replaces_the_earlier_one(
    calls: Calls, asked: tuple[Record, ET.Element]
) -> None:
    call, root = asked
    calls.press(root, call, "1")
    calls.press(root, call, "2")

    assert [e.fields["type"] for e in calls.logged()] == list(RESPONSE_TYPES)
    response = calls.responses.response("0000000001")
    assert response is not None and response.answer is Answer.DECLINED


def test_3_says_the_message_and_the_question_again(
    calls: Calls, asked: tuple[Record, ET.Element]
) -> None:
    call, root = asked
    again = calls.press(root, call, "3")

    assert ET.tostring(again) == ET.tostring(root)
    assert calls.logged() == []


def test_9_stops_the_calls_and_answers_nothing(
    calls: Calls, asked: tuple[Record, ET.Element]
) -> None:
    call, root = asked
    said = calls.press(root, call, "9")

    assert hangs_up_saying(said, calls.said(KeypadPart.STOPPED))
    assert OptOutStore(calls.client, calls.settings).is_opted_out(HOME, Channel.VOICE)
    assert calls.logged() == [] and calls.responses.response("0000000001") is None


@pytest.mark.parametrize("answered_by", MACHINES)
def test_a_machine_hears_the_message_alone_and_its_keys_answer_nothing(
    calls: Calls, answered_by: str
) -> None:
    calls.book()
    calls.send_due(BOOKED_AT)
    (call,) = calls.send_due(THREE_DAYS_BEFORE)

    root = calls.answer(call, answered_by)

    said = menu(root)
    assert calls.said(KeypadPart.CONFIRM_OPTION) not in said
    assert said.endswith(calls.said(KeypadPart.STOP_OPTION))
    assert "asks" not in parse_qs(urlsplit(action(root)).query)
    # A tone on that menu is no answer: 1 says the message again.
    assert ET.tostring(calls.press(root, call, "1")) == ET.tostring(root)
    # Nor is a key posted to the asking menu for a call whose question no one heard.
    asking_menu = action(root) + "&asks=1&decline=1"
    status, ignored = calls.webhook(asking_menu, call, Digits="1")
    assert status == 200 and ignored is not None
    assert hangs_up_saying(ignored, calls.said(KeypadPart.GOODBYE))
    assert calls.logged() == [] and calls.responses.response("0000000001") is None


@pytest.mark.parametrize("fields", [{"AnsweredBy": "machine_end_beep"},
                                    {"CallSid": "CA" + "9" * 32}])
def test_keys_said_by_a_machine_or_from_another_call_answer_nothing(
    calls: Calls, asked: tuple[Record, ET.Element], fields: dict[str, str]
) -> None:
    call, root = asked
    said = calls.press(root, call, "1", **fields)

    assert hangs_up_saying(said, calls.said(KeypadPart.GOODBYE))
    assert calls.logged() == [] and calls.responses.response("0000000001") is None


def test_an_answer_to_a_moved_appointment_changes_nothing(
    calls: Calls, asked: tuple[Record, ET.Element]
) -> None:
    call, root = asked
    calls.book(kind="modified", version=2, start=START + dt.timedelta(hours=2))

    said = calls.press(root, call, "1")

    assert hangs_up_saying(said, calls.said(KeypadPart.CHANGED))
    assert calls.logged() == [] and calls.responses.response("0000000001") is None


def test_an_answer_after_the_start_changes_nothing(
    calls: Calls, asked: tuple[Record, ET.Element]
) -> None:
    call, root = asked
    calls.clock.set(START + dt.timedelta(minutes=1))

    assert hangs_up_saying(calls.press(root, call, "2"), calls.said(KeypadPart.CHANGED))
    assert calls.logged() == []


@pytest.mark.parametrize("digits", ["5", "0", "*", "#", "", "12"])
def test_a_key_the_menu_does_not_offer_gets_the_choices_again(
    calls: Calls, asked: tuple[Record, ET.Element], digits: str
) -> None:
    call, root = asked
    again = calls.press(root, call, digits)

    assert action(again) == action(root)
    said = menu(again)
    assert said.startswith(calls.said(KeypadPart.INVALID_CHOICE))
    assert calls.said(KeypadPart.CONFIRM_OPTION) in said
    assert calls.logged() == []


def test_2_is_no_answer_where_the_location_does_not_offer_it(calls: Calls) -> None:
    calls.book(location={**ASKING, "patient_responses": {"channels": ["voice"],
                                                          "decline": False}})
    calls.send_due(BOOKED_AT)
    (call,) = calls.send_due(THREE_DAYS_BEFORE)
    root = calls.answer(call)
    assert calls.said(KeypadPart.DECLINE_OPTION) not in menu(root)

    again = calls.press(root, call, "2")

    assert menu(again).startswith(calls.said(KeypadPart.INVALID_CHOICE))
    assert calls.logged() == []


@pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl", "other"])
def test_an_unsigned_or_forged_webhook_is_refused_and_changes_nothing(
    calls: Calls, asked: tuple[Record, ET.Element], signature: str | None
) -> None:
    call, root = asked
    url = action(root)
    form = {"AccountSid": calls.fake.account_sid, "CallSid": call.sid or "", "Digits": "1",
            "To": HOME}
    if signature == "other":  # signed, but for another key than the one posted
        signature = calls.fake.sign(url, {**form, "Digits": "2"})

    assert calls.fake.callback_raw(url, form, signature=signature) == 403
    assert calls.fake.callback_raw(call.get("Url") or "", {**form, "AnsweredBy": "human"},
                                   signature=signature) == 403
    assert calls.logged() == [] and calls.responses.response("0000000001") is None


@pytest.mark.parametrize(
    ("webhook", "query"),
    [("keypress", "lang=fr"), ("keypress", "key=&lang=fr"), ("keypress", "key=x&lang=de"),
     ("keypress", "key=x&lang=fr&asks=maybe"), ("answered", "lang=fr"),
     ("answered", "key=&lang=fr"), ("answered", "key=x&lang=de")],
)
def test_a_signed_webhook_without_its_parameters_is_refused_clearly(
    calls: Calls, asked: tuple[Record, ET.Element], webhook: str, query: str
) -> None:
    call, root = asked
    path = ANSWERED_PATH if webhook == "answered" else urlsplit(action(root)).path
    url = f"{PUBLIC}{path}?{query}"
    form = {"CallSid": call.sid or "", "Digits": "1", "To": HOME, "AnsweredBy": "human"}

    assert calls.fake.callback_raw(url, form, signature=calls.fake.sign(url, form)) == 422
    assert "invalid_request" in calls.fake.callbacks[-1].answer
    assert calls.logged() == []


def test_a_keypress_without_a_number_records_nothing(
    calls: Calls, asked: tuple[Record, ET.Element]
) -> None:
    call, root = asked
    said = calls.press(root, call, "1", To="")

    assert hangs_up_saying(said, calls.said(KeypadPart.GOODBYE))
    assert calls.logged() == []


def test_with_the_option_off_a_call_is_placed_as_before(calls: Calls) -> None:
    calls.book(location=SAMPLE_LOCATION.model_dump(mode="json"))
    calls.send_due(BOOKED_AT)
    (call,) = calls.send_due(THREE_DAYS_BEFORE)

    raw = calls.client.get(Keys(calls.settings.queue_prefix).appointment("0000000001"))
    assert raw is not None
    state = AppointmentState.from_json(raw)
    key = PlannedMessage(
        reference="0000000001", kind=Kind.REMINDER, channel=Channel.VOICE, version=1,
        send_at=calls.clock(), deadline=START, start=START, offset_seconds=259200).key
    text = render(Kind.REMINDER, Channel.VOICE, state, calls.settings, calls.clock()).text
    assert "Pour réécouter ce message, appuyez sur le 1." in text
    assert call.fields == {
        "To": (HOME,), "From": (CALLER_ID,),
        "Twiml": (call_twiml(text, Lang.FR, key=key, settings=calls.settings),),
        "StatusCallback": (f"{PUBLIC}/v1/twilio/status",),
        "StatusCallbackEvent": ("initiated", "ringing", "answered", "completed"),
        "StatusCallbackMethod": ("POST",), "MachineDetection": ("DetectMessageEnd",),
        "Timeout": ("45",),
    }
    assert calls.responses.questions(HOME).questions == ()
