"""Callbacks through the real processes: a booking system with its own token posts a
booking to ``notifier web``; ``notifier scheduler`` hands the messages off and fans out what
happened to them; the patients' worker sends them (the loopback Twilio and SMTP server),
Twilio's signed status callbacks close them, and the callbacks worker (``--queues
callbacks``, as the Procfile runs it) posts each change to the booking system's receiver,
which checks every signature with the standardwebhooks package."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
import redis

from tests.e2e.conftest import Launch, booking, booking_system, start_gateway
from tests.factories import ZONE
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio
from tests.harness import GatewayConfig, wait_until

pytestmark = pytest.mark.slow

PATIENT = {
    "reference": "0000800001", "first_name": "Chloé", "last_name": "Desrosiers",
    "language": "fr", "mobile": "+15145550131", "home": "+15145550132",
    "email": "chloe.desrosiers@example.org",
}
LANDLINE = {
    "reference": "0000800002", "first_name": "Owen", "last_name": "MacDonald",
    "language": "en", "mobile": "+15145550141", "home": "+15145550142",
    "email": "owen.macdonald@example.org",
}


def test_a_booking_systems_receiver_hears_of_each_message_signed_and_without_the_patient(
    base_config: GatewayConfig, launch: Launch, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
    redis_client: redis.Redis,
) -> None:
    config = base_config.with_values(callbacks_allow_private=True)
    now = dt.datetime.now(dt.UTC)
    with booking_system(redis_client, config.settings(),
                        locations=frozenset({"plateau"})) as agenda:
        receiver = agenda.receiver
        processes = launch(config)
        base = start_gateway(processes, fake_twilio)
        start = (now + dt.timedelta(days=5)).astimezone(ZONE).replace(
            hour=10, minute=30, second=0, microsecond=0)

        for patient, modes in ((PATIENT, ("sms", "email")), (LANDLINE, ("sms",))):
            answer = httpx.post(
                f"{base}/v1/events",
                json=booking(**patient, modes=modes, start=start, at=now),
                headers={"Authorization": f"Bearer {agenda.token}"}, timeout=10)
            assert answer.status_code == 202, answer.text

        def told() -> list[tuple[str, str, str]]:
            return sorted((event["data"]["reference"], event["data"].get("channel", ""),
                           event["type"])
                          for event in (json.loads(got.body) for got in receiver.received))

        taken = [("0000800001", "email", "message.sent"), ("0000800001", "sms", "message.sent"),
                 ("0000800002", "sms", "message.sent")]
        wait_until(lambda: told() == taken or len(receiver.received) > 3, timeout=60,
                   what="the receiver to hear the messages were taken", hint=lambda: str(told()))
        sms = {record.to: record for record in fake_twilio.wait_for_messages(2, timeout=10)}
        assert fake_twilio.callback(sms[PATIENT["mobile"]].sid or "", "delivered") == 200
        assert fake_twilio.callback(sms[LANDLINE["mobile"]].sid or "", "undelivered",
                                    error_code=30006) == 200
        closed = sorted([*taken, ("0000800001", "sms", "message.delivered"),
                         ("0000800002", "sms", "message.failed"),
                         ("0000800002", "sms", "contact.undeliverable")])
        wait_until(lambda: told() == closed or len(receiver.received) > 6, timeout=60,
                   what="the receiver to hear how the texts ended", hint=lambda: str(told()))
        assert told() == closed

        # For every message, the status API says what its latest callback said.
        latest: dict[str, dict[str, object]] = {}
        for got in receiver.received:
            event = json.loads(got.body)
            data = event["data"]
            if event["type"].startswith("message.") and (
                    data["message_id"] not in latest
                    or data["sequence"] > latest[data["message_id"]]["sequence"]):
                latest[data["message_id"]] = data
        for message_id, data in latest.items():
            view = httpx.get(f"{base}/v1/messages/{message_id}",
                             headers={"Authorization": f"Bearer {agenda.token}"}, timeout=10)
            assert view.status_code == 200, view.text
            assert (view.json()["status"], view.json()["reason"]) == (
                data["status"], data["reason"]), message_id

    events = [json.loads(got.body) for got in receiver.received]
    assert all(got.verified for got in receiver.received)
    assert [got.headers["webhook-id"] for got in receiver.received] == [e["id"] for e in events]
    delivered = [e for e in events if e["data"]["reference"] == "0000800001"
                 and e["data"]["channel"] == "sms"]
    assert delivered[0]["data"]["message_id"] == delivered[1]["data"]["message_id"]
    assert delivered[0]["data"]["sequence"] < delivered[1]["data"]["sequence"]
    (failed,) = [e for e in events if e["type"] == "message.failed"]
    assert (failed["data"]["reason"], failed["data"]["provider_code"]) == ("landline", "30006")
    (undeliverable,) = [e for e in events if e["type"] == "contact.undeliverable"]
    assert undeliverable["data"]["address"] == LANDLINE["mobile"]
    assert undeliverable["data"]["message_id"] == failed["data"]["message_id"]
    # Only the contact event carries an address; no event names a patient or their text.
    message_bodies = " ".join(json.dumps(e, ensure_ascii=False) for e in events
                              if e["type"].startswith("message."))
    for patient in (PATIENT, LANDLINE):
        for private in (patient["first_name"], patient["last_name"], patient["mobile"][2:],
                        patient["email"]):
            assert private not in message_bodies
