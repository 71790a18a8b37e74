"""Delivery end to end through real processes: a booking posted over HTTP to ``notifier
web`` is planned, handed off by ``notifier scheduler`` and sent by ``dramatiq
notifier.worker`` to the loopback Twilio (SMS and call) and SMTP server (email), each in the
patient's language; Twilio's signed status callbacks then close the delivery records."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import httpx
import pytest
import redis

from notifier.store.deliveries import DeliveryLog
from notifier.store.keys import Keys
from tests.e2e.conftest import API_TOKEN, PUBLIC, SMS_FROM, Launch, booking
from tests.factories import ZONE
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio, Record, rebase
from tests.harness import GatewayConfig, wait_until

pytestmark = pytest.mark.slow

WAIT = 30.0  # seconds for every message to reach its provider
FRENCH = {
    "reference": "0000700001", "first_name": "Geneviève", "last_name": "Bouchard-Lavoie",
    "language": "fr", "mobile": "+15145550111", "home": "+15145550112",
    "email": "genevieve.bouchard@example.org",
}
ENGLISH = {
    "reference": "0000700002", "first_name": "Sarah", "last_name": "Fitzgerald",
    "language": "en", "mobile": "+14165550121", "home": "+14165550122",
    "email": "sarah.fitzgerald@example.com",
}
PATIENTS = (FRENCH, ENGLISH)


def by_recipient(records: list[Record]) -> dict[str | None, Record]:
    return {record.to: record for record in records}


def parts(message: EmailMessage) -> dict[str, str]:
    """The text of each part of a multipart message, by content type."""
    found = {}
    for part in message.walk():
        if not part.is_multipart():
            assert isinstance(part, EmailMessage)
            found[part.get_content_type()] = part.get_content()
    return found


def test_a_booking_reaches_sms_call_and_email_in_its_language_and_callbacks_close_them(
    base_config: GatewayConfig, launch: Launch, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
    redis_client: redis.Redis,
) -> None:
    processes = launch(base_config)
    processes.start_worker(threads=4)
    processes.start_scheduler()
    web = processes.start_web()
    fake_twilio.deliver_to = rebase(PUBLIC, f"http://127.0.0.1:{web.port}")
    now = dt.datetime.now(dt.UTC)
    start = (now + dt.timedelta(days=5)).astimezone(ZONE).replace(hour=10, minute=30,
                                                                  second=0, microsecond=0)

    for patient in PATIENTS:
        answer = httpx.post(
            f"http://127.0.0.1:{web.port}/v1/events",
            json=booking(**patient, modes=("sms", "email", "voice"), start=start, at=now),
            headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=10,
        )
        assert answer.status_code == 202, answer.text

    sms = by_recipient(fake_twilio.wait_for_messages(2, timeout=WAIT))
    calls = by_recipient(fake_twilio.wait_for_calls(2, timeout=WAIT))
    emails = {m.rcpt_tos: m for m in fake_smtp.wait_for_messages(2, timeout=WAIT)}

    # SMS: the right words in the right language, only the first name.
    assert set(sms) == {FRENCH["mobile"], ENGLISH["mobile"]}
    french_sms, english_sms = sms[FRENCH["mobile"]], sms[ENGLISH["mobile"]]
    assert french_sms.body and english_sms.body
    assert "Geneviève" in french_sms.body and "Rendez-vous" in french_sms.body
    assert "ARRET" in french_sms.body
    assert "Sarah" in english_sms.body and "Appointment" in english_sms.body
    assert "STOP" in english_sms.body
    for one_sms, patient in ((french_sms, FRENCH), (english_sms, ENGLISH)):
        assert patient["last_name"] not in (one_sms.body or "")
        assert one_sms.from_ == SMS_FROM
        assert one_sms.status_callback == f"{PUBLIC}/v1/twilio/status"

    # Calls: to the home phones, in a fr-CA voice for French, en-US for English.
    assert set(calls) == {FRENCH["home"], ENGLISH["home"]}
    french_call, english_call = calls[FRENCH["home"]].twiml, calls[ENGLISH["home"]].twiml
    assert french_call and english_call
    assert 'language="fr-CA"' in french_call and "en-US" not in french_call
    assert "Geneviève" in french_call and "rendez-vous" in french_call.lower()
    assert 'language="en-US"' in english_call and "fr-CA" not in english_call
    assert "Sarah" in english_call and "appointment" in english_call.lower()
    assert "http" not in french_call.split("<Gather")[0]  # no address read aloud

    # Email: multipart, plain text and HTML, in the patient's language.
    assert set(emails) == {(FRENCH["email"],), (ENGLISH["email"],)}
    french_mail = emails[(FRENCH["email"],)].message
    english_mail = emails[(ENGLISH["email"],)].message
    for mail, words in ((french_mail, ("Geneviève", "Bonjour")),
                        (english_mail, ("Sarah", "Hello"))):
        assert mail.get_content_type() == "multipart/alternative"
        texts = parts(mail)
        assert set(texts) == {"text/plain", "text/html"}
        for text in texts.values():
            assert all(word in text for word in words), text
    assert "confirmé" in str(french_mail["Subject"]).lower()
    assert "confirmed" in str(english_mail["Subject"]).lower()

    # Status callbacks, signed, through the web process: delivered, failed with a code.
    deliveries = DeliveryLog(redis_client, keys=Keys(base_config.settings().queue_prefix),
                             retention=dt.timedelta(days=1))

    def record(sid: str | None) -> dict[str, str]:
        assert sid is not None
        key = deliveries.key_for_provider(sid)
        assert key is not None, f"no delivery record for {sid}"
        return deliveries.get(key)

    # The provider answered before the worker wrote down its answer: wait for that.
    for taken in (french_sms, english_sms, *calls.values()):
        wait_until(lambda sid=taken.sid: deliveries.key_for_provider(sid or "") is not None,
                   timeout=10, what=f"the delivery record of {taken.sid}")
        assert record(taken.sid)["status"] == "accepted"
    assert fake_twilio.callback(french_sms.sid or "", "sent") == 200
    assert fake_twilio.callback(french_sms.sid or "", "delivered") == 200
    assert fake_twilio.callback(english_sms.sid or "", "failed", error_code=30008) == 200
    french_call_sid = calls[FRENCH["home"]].sid or ""
    assert fake_twilio.callback(french_call_sid, "completed", answered_by="human") == 200
    english_call_sid = calls[ENGLISH["home"]].sid or ""
    assert fake_twilio.callback(english_call_sid, "no-answer") == 200

    assert record(french_sms.sid)["status"] == "delivered"
    failed = record(english_sms.sid)
    assert failed["status"] == "failed" and failed["error_code"] == "30008"
    assert record(french_call_sid)["status"] == "delivered"
    assert record(english_call_sid)["status"] == "undelivered"
    for sent in (french_sms, english_sms):
        assert record(sent.sid)["lang"] == (
            "fr" if sent.to == FRENCH["mobile"] else "en"
        )

    # Nothing any process wrote names a patient or their phone numbers or addresses.
    output = processes.output()
    assert "handed" in output  # the scheduler's log is there to read
    for patient in PATIENTS:
        for field in ("first_name", "last_name", "mobile", "home", "email"):
            assert patient[field] not in output, f"the logs hold a patient's {field}"
