"""Channel fallback through the real processes: a clinic with a fallback books four
patients over HTTP; the loopback Twilio refuses one number at create (21211), a text is
found to reach a landline in its status callback (30006), the SMTP server refuses an
email address (550), and a later appointment goes to the number already known invalid.
Each time the stand-in channel delivers, once; and the booking system's receiver hears
``message.failed`` (or ``message.suppressed``) before the fallback's own message events,
and ``contact.undeliverable`` once per address."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import httpx
import pytest
import redis

from notifier.messages.samples import SAMPLE_LOCATION
from notifier.store.deliveries import DeliveryLog
from notifier.store.history import History
from notifier.store.keys import Keys
from tests.e2e.conftest import Launch, booking, booking_system, start_gateway
from tests.factories import ZONE
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio, Outcome, Record
from tests.fakes.webhook_receiver import FakeReceiver
from tests.harness import GatewayConfig, wait_until

pytestmark = pytest.mark.slow

WAIT = 60.0
LOCATION = {**SAMPLE_LOCATION.model_dump(mode="json"),
            "fallback": {"stand_ins": {"sms": ["voice", "email"], "voice": ["sms"],
                                       "email": ["sms"]},
                         "unchosen_modes": True}}
# Each patient chose one mode and agreed to be reached another way.
INVALID = {"reference": "0000900001", "first_name": "Mathieu", "last_name": "Pelletier",
           "language": "fr", "mobile": "+15145550151", "home": "+15145550152",
           "email": "mathieu.pelletier@example.org", "modes": ("sms",)}
LANDLINE = {"reference": "0000900002", "first_name": "Hannah", "last_name": "Thibodeau",
            "language": "en", "mobile": "+15145550161", "home": "+15145550162",
            "email": "hannah.thibodeau@example.org", "modes": ("sms",)}
BOUNCED = {"reference": "0000900003", "first_name": "Anaïs", "last_name": "Côté",
           "language": "fr", "mobile": "+15145550171", "home": "+15145550172",
           "email": "anais.cote@example.org", "modes": ("email",)}
# Booked once the first patient's number is known invalid: the same mobile number.
AGAIN = {**INVALID, "reference": "0000900004", "home": "+15145550182",
         "email": "mathieu.p@example.org"}
PATIENTS = (INVALID, LANDLINE, BOUNCED, AGAIN)

Told = tuple[str, str, str, bool]  # reference, channel, event type, the fallback's


def told(receiver: FakeReceiver) -> list[Told]:
    found = []
    for got in receiver.received:
        event = json.loads(got.body)
        data = event["data"]
        found.append((data["reference"], data["channel"], event["type"],
                      ":fallback:" in (data.get("message_id") or "")))
    return sorted(found)


def events(receiver: FakeReceiver) -> list[dict[str, Any]]:
    return [json.loads(got.body) for got in receiver.received]


def test_a_fallback_reaches_the_patient_once_and_the_booking_system_hears_it_in_order(
    base_config: GatewayConfig, launch: Launch, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
    redis_client: redis.Redis,
) -> None:
    config = base_config.with_values(callbacks_allow_private=True)
    settings = config.settings()
    keys = Keys(settings.queue_prefix)
    deliveries = DeliveryLog(redis_client, keys=keys, retention=dt.timedelta(days=1))
    now = dt.datetime.now(dt.UTC)
    start = (now + dt.timedelta(days=5)).astimezone(ZONE).replace(
        hour=10, minute=30, second=0, microsecond=0)
    fake_twilio.fail_number(INVALID["mobile"], Outcome.error(21211), endpoints=["messages"])
    fake_smtp.refuse_next(code=550, text="5.1.1 No such user", stage="rcpt")

    with booking_system(redis_client, settings,
                        locations=frozenset({SAMPLE_LOCATION.id})) as agenda:
        receiver = agenda.receiver
        processes = launch(config)
        base = start_gateway(processes, fake_twilio)
        auth = {"Authorization": f"Bearer {agenda.token}"}

        def book(patient: dict[str, Any]) -> None:
            answer = httpx.post(f"{base}/v1/events", headers=auth, timeout=10, json=booking(
                **patient, start=start, at=now, location=LOCATION, fallback_consent=True))
            assert answer.status_code == 202, answer.text

        def taken(records: list[Record], to: str) -> Record:
            """The one message or call to ``to``, once the gateway has written down the
            provider's answer (status callbacks find it by its SID)."""
            (record,) = [r for r in records if r.to == to]
            wait_until(lambda: deliveries.key_for_provider(record.sid or "") is not None,
                       timeout=10, what=f"the delivery record of {record.sid}")
            return record

        def call_to(number: str) -> Record:
            wait_until(lambda: any(c.to == number for c in fake_twilio.calls), timeout=WAIT,
                       what=f"a call to {number[-4:]}")
            return taken(fake_twilio.calls, number)

        def sms_to(number: str) -> Record:
            wait_until(lambda: any(m.to == number for m in fake_twilio.messages),
                       timeout=WAIT, what=f"a text to {number[-4:]}")
            return taken(fake_twilio.messages, number)

        for patient in (INVALID, LANDLINE, BOUNCED):
            book(patient)

        # 21211 at create: the text never went; the call stands in, to the home number.
        invalid_call = call_to(INVALID["home"])
        # A landline, found in the text's status callback (told twice by Twilio).
        landline_sms = sms_to(LANDLINE["mobile"])
        for _ in range(2):
            assert fake_twilio.callback(landline_sms.sid or "", "undelivered",
                                        error_code=30006) == 200
        landline_call = call_to(LANDLINE["home"])
        # The email address refused (a hard bounce): a text stands in.
        bounced_sms = sms_to(BOUNCED["mobile"])
        # The number known invalid: the next appointment's text is not even tried.
        book(AGAIN)
        again_call = call_to(AGAIN["home"])

        for call in (invalid_call, landline_call, again_call):
            assert fake_twilio.callback(call.sid or "", "completed", answered_by="human") == 200
        assert fake_twilio.callback(bounced_sms.sid or "", "delivered") == 200

        expected = sorted([
            ("0000900001", "sms", "message.failed", False),
            ("0000900001", "sms", "contact.undeliverable", False),
            ("0000900001", "voice", "message.sent", True),
            ("0000900001", "voice", "message.delivered", True),
            ("0000900002", "sms", "message.sent", False),
            ("0000900002", "sms", "message.failed", False),
            ("0000900002", "sms", "contact.undeliverable", False),
            ("0000900002", "voice", "message.sent", True),
            ("0000900002", "voice", "message.delivered", True),
            ("0000900003", "email", "message.failed", False),
            ("0000900003", "email", "contact.undeliverable", False),
            ("0000900003", "sms", "message.sent", True),
            ("0000900003", "sms", "message.delivered", True),
            ("0000900004", "sms", "message.suppressed", False),
            ("0000900004", "voice", "message.sent", True),
            ("0000900004", "voice", "message.delivered", True),
        ])
        wait_until(lambda: told(receiver) == expected or len(receiver.received) > 16,
                   timeout=WAIT, what="the receiver to hear every message and contact event",
                   hint=lambda: str(told(receiver)))
        assert told(receiver) == expected

        # The status API says what each message's latest callback said.
        latest: dict[str, dict[str, Any]] = {}
        for event in events(receiver):
            data = event["data"]
            if event["type"].startswith("message.") and (
                    data["message_id"] not in latest
                    or data["sequence"] > latest[data["message_id"]]["sequence"]):
                latest[data["message_id"]] = data
        for message_id, data in latest.items():
            view = httpx.get(f"{base}/v1/messages/{message_id}", headers=auth, timeout=10)
            assert view.status_code == 200, view.text
            assert (view.json()["status"], view.json()["reason"]) == (
                data["status"], data["reason"]), message_id

    received = events(receiver)
    assert all(got.verified for got in receiver.received)
    by_reference: dict[str, list[dict[str, Any]]] = {}
    for event in sorted(received, key=lambda e: e["data"].get("sequence", 0)):
        by_reference.setdefault(event["data"]["reference"], []).append(event)

    # The failure (or suppression) is told before anything of its fallback, with its reason.
    reasons = {"0000900001": ("message.failed", "invalid_number", "21211"),
               "0000900002": ("message.failed", "landline", "30006"),
               "0000900003": ("message.failed", "bounced", "550"),
               "0000900004": ("message.suppressed", "contact_undeliverable", None)}
    for reference, (kind, reason, code) in reasons.items():
        (failure,) = [e for e in by_reference[reference] if e["type"] == kind]
        fallback = [e for e in by_reference[reference]
                    if ":fallback:" in e["data"]["message_id"]]
        assert (failure["data"]["reason"], failure["data"]["provider_code"]) == (reason, code)
        assert [e["type"] for e in fallback] == ["message.sent", "message.delivered"]
        assert failure["data"]["sequence"] < fallback[0]["data"]["sequence"], reference
    # contact.undeliverable: once per address, naming the message that found it.
    contacts = [e for e in received if e["type"] == "contact.undeliverable"]
    assert Counter(e["data"]["address"] for e in contacts) == {
        INVALID["mobile"]: 1, LANDLINE["mobile"]: 1, BOUNCED["email"]: 1}
    failed_ids = {e["id"] for e in received if e["type"] == "message.failed"}
    assert {e["id"].removesuffix(".contact") for e in contacts} == failed_ids

    # One message per stand-in: nothing reached a provider twice, nothing reached the
    # address that failed again.
    assert Counter(c.to for c in fake_twilio.calls) == {
        INVALID["home"]: 1, LANDLINE["home"]: 1, AGAIN["home"]: 1}
    assert Counter(m.to for m in fake_twilio.messages) == {
        LANDLINE["mobile"]: 1, BOUNCED["mobile"]: 1}
    assert [m.rcpt_tos for m in fake_smtp.messages] == []
    assert [r.to for r in fake_twilio.requests].count(INVALID["mobile"]) == 1
    # Each story reads in the order things happened.
    history = History(redis_client, keys=keys, retention=dt.timedelta(days=1))
    assert [line["what"] for line in history.read("0000900001")] == [
        "event", "failed", "fallback_scheduled", "sent", "delivered"]
    assert [line["what"] for line in history.read("0000900004")] == [
        "event", "suppressed", "fallback_scheduled", "sent", "delivered"]

    output = processes.output()
    for patient in PATIENTS:
        for field in ("last_name", "mobile", "home", "email"):
            assert str(patient[field]) not in output, f"the logs hold a patient's {field}"
