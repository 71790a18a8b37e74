"""The fake Twilio, driven by the real ``twilio`` client, and its signed status callbacks."""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes.twilio_server import FakeTwilio, Outcome, rebase, twilio_client_for

PATIENT, CLINIC = "+15145550188", "+15145550100"
PUBLIC = "https://gateway.example.org"
TWIML = (
    '<Response><Say language="fr-CA" voice="Polly.Gabrielle-Neural">Bonjour Émilie.</Say>'
    "</Response>"
)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def client(fake: FakeTwilio) -> Client:
    return twilio_client_for(fake, timeout=5.0)


def send_sms(client: Client, **options: Any) -> Any:
    fields = {"to": PATIENT, "from_": CLINIC, "body": "Rappel : rendez-vous demain à 9 h 30."}
    return client.messages.create(**{**fields, **options})


def refusal(client: Client, **options: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as raised:
        send_sms(client, **options)
    return raised.value


# -- creates --------------------------------------------------------------------------------


def test_a_message_is_created_parsed_and_recorded(fake: FakeTwilio, client: Client) -> None:
    message = send_sms(
        client, status_callback=f"{PUBLIC}/twilio/status", validity_period=1800,
        smart_encoded=True,
    )

    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert (message.status, message.to, message.from_) == ("queued", PATIENT, CLINIC)
    assert message.account_sid == fake.account_sid
    assert message.num_segments == "1"
    assert message.date_created is not None
    (record,) = fake.messages
    assert record.sid == message.sid and record.status == 201
    assert record.form == {
        "To": PATIENT, "From": CLINIC, "Body": "Rappel : rendez-vous demain à 9 h 30.",
        "StatusCallback": f"{PUBLIC}/twilio/status", "ValidityPeriod": "1800",
        "SmartEncoded": "true",
    }
    assert record.headers["authorization"].startswith("Basic ")
    assert fake.find(message.sid) == record


def test_a_messaging_service_message_is_accepted_without_a_sender(client: Client) -> None:
    message = client.messages.create(
        to=PATIENT, messaging_service_sid="MG" + "0" * 32, body="Bonjour"
    )

    assert message.status == "accepted"
    assert message.from_ is None


def test_segments_are_counted_as_the_carrier_counts_them(client: Client) -> None:
    # "ê" is not in GSM-7: UCS-2, 70 characters in one segment, 67 per part beyond.
    assert send_sms(client, body="ê" * 70).num_segments == "1"
    assert send_sms(client, body="ê" * 71).num_segments == "2"


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"to": "514-555-0188"}, 21211),
        ({"body": ""}, 21602),
        ({"body": "x" * 1601}, 21617),
    ],
)
def test_a_create_twilio_would_refuse_is_refused_before_the_script(
    fake: FakeTwilio, client: Client, options: dict[str, str], code: int
) -> None:
    fake.script_messages(Outcome.server_error(500, accepted=True))

    error = refusal(client, **options)

    assert (error.status, error.code) == (400, code)
    assert fake.messages == []
    assert refusal(client).status == 500  # the invalid create did not use the script up


def test_an_opted_out_recipient_raises_21610(fake: FakeTwilio, client: Client) -> None:
    fake.script_messages(Outcome.error(21610))

    error = refusal(client)

    assert (error.status, error.code) == (400, 21610)
    assert "unsubscribed" in error.msg
    assert fake.messages == []
    assert [r.status for r in fake.requests] == [400]


def test_too_many_requests_then_ok_once_the_script_runs_out(
    fake: FakeTwilio, client: Client
) -> None:
    fake.script_messages(Outcome.too_many_requests(retry_after=2))

    error = refusal(client)
    message = send_sms(client)

    assert (error.status, error.code) == (429, 20429)
    assert fake.requests[0].status == 429
    assert [r.sid for r in fake.messages] == [message.sid]


@pytest.mark.parametrize("accepted", [False, True])
def test_a_server_error_may_or_may_not_have_sent_the_message(
    fake: FakeTwilio, client: Client, accepted: bool
) -> None:
    fake.script_messages(Outcome.server_error(503, accepted=accepted))

    error = refusal(client)

    assert (error.status, error.code) == (503, 20503)
    assert len(fake.messages) == (1 if accepted else 0)


@pytest.mark.parametrize("accepted", [False, True])
def test_a_timeout_leaves_the_client_without_an_answer(
    fake: FakeTwilio, accepted: bool
) -> None:
    impatient = twilio_client_for(fake, timeout=0.3)
    fake.script_messages(Outcome.timeout(60, accepted=accepted))

    with pytest.raises(requests.exceptions.Timeout):
        send_sms(impatient)

    assert len(fake.messages) == (1 if accepted else 0)
    started = time.monotonic()
    fake.stop()  # cuts the 60 s hold short
    assert time.monotonic() - started < 5


def test_fail_all_lasts_until_reset(fake: FakeTwilio, client: Client) -> None:
    fake.fail_all(Outcome.error(30034), endpoints=["messages"])

    codes = [refusal(client).code for _ in range(3)]
    call = client.calls.create(to=PATIENT, from_=CLINIC, twiml=TWIML)
    fake.reset()
    message = send_sms(client)

    assert codes == [30034] * 3
    assert call.sid and message.sid
    assert [r.sid for r in fake.messages] == [message.sid]


def test_a_number_refused_for_good_stays_refused_after_an_outage(
    fake: FakeTwilio, client: Client,
) -> None:
    invalid = "+15145550177"
    fake.fail_number(invalid, Outcome.error(21211), endpoints=["messages"])
    fake.fail_all(Outcome.server_error(503))

    during = refusal(client, to=invalid)
    fake.fail_all(Outcome.server_error(500, accepted=True))  # would take it: refused
    taking = refusal(client, to=invalid)
    fake.reset()  # the outage is over; the number is still invalid
    after = refusal(client, to=invalid)
    others = send_sms(client)
    call = client.calls.create(to=invalid, from_=CLINIC, twiml=TWIML)
    fake.forget_numbers()
    valid_again = send_sms(client, to=invalid)

    assert (during.status, taking.code, after.code) == (503, 21211, 21211)
    assert others.sid and call.sid and valid_again.sid
    assert [r.sid for r in fake.messages] == [others.sid, valid_again.sid]


@pytest.mark.parametrize(
    ("account", "token"), [("own", "wrong"), ("other", "own")], ids=["token", "account"]
)
def test_wrong_credentials_are_refused_with_401(
    fake: FakeTwilio, account: str, token: str
) -> None:
    other = FakeTwilio()  # never started: only its credentials are used
    stranger = twilio_client_for(fake)
    stranger.username = stranger.account_sid = (
        fake.account_sid if account == "own" else other.account_sid
    )
    stranger.password = fake.auth_token if token == "own" else other.auth_token
    stranger.auth = (stranger.username, stranger.password)

    error = refusal(stranger)

    assert (error.status, error.code) == (401, 20003)
    assert fake.messages == []


def test_an_unknown_path_is_404(fake: FakeTwilio) -> None:
    answer = requests.post(
        f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Faxes.json",
        auth=(fake.account_sid, fake.auth_token), data={"To": PATIENT}, timeout=5,
    )

    assert answer.status_code == 404
    assert answer.json()["code"] == 20404


def test_a_call_keeps_its_twiml_and_its_repeated_fields(fake: FakeTwilio, client: Client) -> None:
    call = client.calls.create(
        to=PATIENT, from_=CLINIC, twiml=TWIML, status_callback=f"{PUBLIC}/twilio/voice",
        status_callback_event=["initiated", "answered", "completed"],
        machine_detection="DetectMessageEnd",
    )

    assert re.fullmatch(r"CA[0-9a-f]{32}", call.sid)
    assert (call.status, call.to) == ("queued", PATIENT)
    (record,) = fake.calls
    assert record.twiml == TWIML
    assert record.fields["StatusCallbackEvent"] == ("initiated", "answered", "completed")
    assert record.get("MachineDetection") == "DetectMessageEnd"
    assert fake.messages == []


def test_a_call_errors_follow_their_own_script(fake: FakeTwilio, client: Client) -> None:
    fake.script_calls(Outcome.too_many_requests())

    message = send_sms(client)
    with pytest.raises(TwilioRestException) as raised:
        client.calls.create(to=PATIENT, from_=CLINIC, twiml=TWIML)

    assert message.sid
    assert raised.value.code == 20429


# -- lookups ------------------------------------------------------------------------------


def test_the_lists_hold_what_was_taken_newest_first_filtered_by_number(
    fake: FakeTwilio, client: Client
) -> None:
    other = "+15145550199"
    fake.script_messages(Outcome.ok(), Outcome.server_error(500, accepted=False),
                         Outcome.server_error(500, accepted=True))
    first = send_sms(client, body="un")
    for body in ("deux", "trois"):
        with pytest.raises(TwilioRestException):
            send_sms(client, body=body)
    send_sms(client, to=other, body="quatre")
    call = client.calls.create(to=PATIENT, from_=CLINIC, twiml=TWIML)

    listed = client.messages.list(to=PATIENT, from_=CLINIC, limit=20)
    calls = client.calls.list(to=PATIENT, from_=CLINIC, limit=20)

    assert [m.body for m in listed] == ["trois", "un"]  # "deux" was never taken
    assert listed[1].sid == first.sid and listed[1].date_created is not None
    assert [c.sid for c in calls] == [call.sid]
    assert client.calls.list(to=other, limit=20) == []
    assert len(fake.lookups) == 3 and len(fake.requests) == 5  # lookups apart


def test_a_list_follows_twilios_clock_and_its_outage(fake: FakeTwilio, client: Client) -> None:
    when = dt.datetime(2026, 11, 24, 15, 0, 7, tzinfo=dt.UTC)
    fake.clock = lambda: when
    send_sms(client)
    fake.script_messages(Outcome.ok())  # a script is for creates: the outage below answers
    fake.fail_all(Outcome.server_error(503))

    with pytest.raises(TwilioException) as raised:  # what the client raises for a list
        client.messages.list(to=PATIENT, limit=20)
    fake.reset()
    (listed,) = client.messages.list(to=PATIENT, limit=20)

    assert raised.value.args[1].status_code == 503
    assert listed.date_created == when


def test_waiting_for_a_message_sent_from_another_thread(fake: FakeTwilio, client: Client) -> None:
    sender = threading.Thread(target=send_sms, args=(client,))
    sender.start()
    (record,) = fake.wait_for_messages(1, timeout=10)
    sender.join()

    assert record.to == PATIENT
    with pytest.raises(TimeoutError):
        fake.wait_for_calls(1, timeout=0.05)


def test_stop_joins_its_threads_and_frees_the_port(client: Client, fake: FakeTwilio) -> None:
    send_sms(client)  # leaves a kept-alive connection open
    port = fake.port

    fake.stop()

    assert not [t for t in threading.enumerate() if t.name.startswith("fake-twilio")]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert len(fake.messages) == 1  # the ledger outlives the server


# -- status callbacks -----------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    form: dict[str, str]


class _Receiver(BaseHTTPRequestHandler):
    server: _ReceiverServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.server.received.append(
            Received(self.path, dict(self.headers.items()), dict(parse_qsl(body)))
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ReceiverServer(ThreadingHTTPServer):
    received: list[Received]


@pytest.fixture
def receiver() -> Iterator[_ReceiverServer]:
    """A stand-in for the gateway's webhook: records each POST, answers 204."""
    server = _ReceiverServer(("127.0.0.1", 0), _Receiver)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def wired(fake: FakeTwilio, receiver: _ReceiverServer) -> FakeTwilio:
    fake.deliver_to = rebase(PUBLIC, f"http://127.0.0.1:{receiver.server_address[1]}")
    return fake


def test_a_message_callback_is_signed_over_the_public_url(
    wired: FakeTwilio, receiver: _ReceiverServer, client: Client
) -> None:
    url = f"{PUBLIC}/twilio/status?k=SMS-1"
    message = send_sms(client, status_callback=url)

    status = wired.callback(message.sid, "undelivered", error_code=30003)

    assert status == 204
    (got,) = receiver.received
    assert got.path == "/twilio/status?k=SMS-1"
    assert got.form == {
        "AccountSid": wired.account_sid, "ApiVersion": "2010-04-01",
        "MessageSid": message.sid, "SmsSid": message.sid, "MessageStatus": "undelivered",
        "SmsStatus": "undelivered", "From": CLINIC, "To": PATIENT, "ErrorCode": "30003",
    }
    validator = RequestValidator(wired.auth_token)
    assert validator.validate(url, got.form, got.headers["X-Twilio-Signature"])
    assert not validator.validate(
        "http://127.0.0.1/twilio/status?k=SMS-1", got.form, got.headers["X-Twilio-Signature"]
    )
    assert got.headers["I-Twilio-Idempotency-Token"]
    (sent,) = wired.callbacks
    assert (sent.url, sent.status) == (url, 204)


def test_a_redelivered_callback_keeps_its_idempotency_token(
    wired: FakeTwilio, receiver: _ReceiverServer, client: Client
) -> None:
    message = send_sms(client, status_callback=f"{PUBLIC}/twilio/status")

    for _ in range(2):
        wired.callback(message.sid, "delivered", idempotency_token="token-1")
    wired.callback(message.sid, "delivered")

    tokens = [r.headers["I-Twilio-Idempotency-Token"] for r in receiver.received]
    assert tokens[0] == tokens[1] == "token-1" != tokens[2]


def test_a_call_callback_carries_answered_by(
    wired: FakeTwilio, receiver: _ReceiverServer, client: Client
) -> None:
    url = f"{PUBLIC}/twilio/voice"
    call = client.calls.create(
        to=PATIENT, from_=CLINIC, twiml=TWIML, status_callback=url,
        async_amd="true", async_amd_status_callback=f"{PUBLIC}/twilio/amd",
    )

    wired.callback(call.sid, "completed", answered_by="machine_end_beep")
    wired.amd_callback(call.sid, "machine_end_beep")

    voice, amd = receiver.received
    assert (voice.form["CallSid"], voice.form["CallStatus"]) == (call.sid, "completed")
    assert voice.form["AnsweredBy"] == "machine_end_beep"
    assert (voice.form["To"], voice.form["From"]) == (PATIENT, CLINIC)
    assert (amd.path, amd.form["AnsweredBy"]) == ("/twilio/amd", "machine_end_beep")
    validator = RequestValidator(wired.auth_token)
    assert validator.validate(url, voice.form, voice.headers["X-Twilio-Signature"])
    assert validator.validate(
        f"{PUBLIC}/twilio/amd", amd.form, amd.headers["X-Twilio-Signature"]
    )


def test_a_forged_callback_carries_exactly_the_signature_given(
    wired: FakeTwilio, receiver: _ReceiverServer
) -> None:
    url, params = f"{PUBLIC}/twilio/status", {"MessageSid": "SM" + "1" * 32}

    wired.callback_raw(url, params, signature="forged")
    wired.callback_raw(url, params, signature=None)
    wired.callback_raw(url, params, signature=wired.sign(url, params))

    forged, unsigned, signed = receiver.received
    validator = RequestValidator(wired.auth_token)
    assert not validator.validate(url, forged.form, forged.headers["X-Twilio-Signature"])
    assert "X-Twilio-Signature" not in unsigned.headers
    assert validator.validate(url, signed.form, signed.headers["X-Twilio-Signature"])


def test_a_callback_needs_a_status_callback_url(wired: FakeTwilio, client: Client) -> None:
    message = send_sms(client)

    with pytest.raises(ValueError, match="without a StatusCallback"):
        wired.callback(message.sid, "delivered")


def test_rebase_refuses_a_url_outside_the_public_base() -> None:
    deliver_to = rebase(PUBLIC + "/", "http://127.0.0.1:9")

    assert deliver_to(f"{PUBLIC}/a?b=c") == "http://127.0.0.1:9/a?b=c"
    with pytest.raises(ValueError):
        deliver_to("https://gateway.example.org.evil.test/a")
