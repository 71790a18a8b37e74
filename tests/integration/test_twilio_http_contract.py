"""The gateway's Twilio HTTP client against the fake Twilio: the bytes on the wire and the
failure class of every way an exchange can go wrong.

The wire is compared with the twilio library's own ``TwilioHttpClient`` (a requests
session), which Twilio's servers have always been answering. Only the gateway's public
entry points are used (``build_twilio_client``, the channel clients), so that the failure
classes below hold for any HTTP client behind them.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests

from notifier.channels.twilio.api import build_twilio_client
from notifier.channels.twilio.sms import TwilioSmsClient
from notifier.channels.twilio.voice import TwilioVoiceClient
from notifier.domain import Channel, Lang
from notifier.errors import DeliveryError, FailureClass
from notifier.messages.catalogue import Rendered
from notifier.messages.samples import SAMPLE_LOCATION
from tests.fakes.conftest_fixtures import fake_twilio
from tests.fakes.twilio_server import FakeTwilio, Outcome, Record, twilio_client_for
from tests.integration.test_twilio_clients import (
    HOME,
    MOBILE,
    NOW,
    planned,
    rendered,
    send_sms,
    settings_for,
    sms_client,
    sms_refusal,
)

__all__ = ["fake_twilio"]  # the fakes' fixture, used below

SPAN = (NOW - dt.timedelta(minutes=1), NOW + dt.timedelta(minutes=1))


def wire(record: Record) -> tuple[object, ...]:
    """What Twilio reads of a request: method, path, query, headers in order, body."""
    return record.method, record.path, record.query, list(record.headers.items()), record.content


def awkward(text: Rendered) -> Rendered:
    """The rendered SMS with characters a form encoder may get wrong."""
    return dataclasses.replace(text, text=text.text + " é ü 😀 & + = % ; /\nligne 2")


# -- the bytes on the wire ------------------------------------------------------------------


def test_creates_and_lookups_go_out_as_from_twilios_own_client(
    fake_twilio: FakeTwilio, redis_client: redis.Redis
) -> None:
    settings = settings_for(fake_twilio)
    reference = twilio_client_for(fake_twilio)
    sms = rendered(Channel.SMS, Lang.FR, settings)
    voice = rendered(Channel.VOICE, Lang.FR, settings)

    for twilio in (reference, None):  # None: the gateway's own client
        sms_client_ = TwilioSmsClient(settings, twilio=twilio)
        sms_client_.send(planned(Channel.SMS), awkward(sms), MOBILE)
        sms_client_.find_sent(planned(Channel.SMS), sms, MOBILE, between=SPAN,
                              taken=lambda _: True)
        voice_client = TwilioVoiceClient(settings, twilio=twilio, redis=redis_client,
                                         locations=lambda _: SAMPLE_LOCATION, clock=lambda: NOW)
        voice_client.send(planned(Channel.VOICE), voice, HOME)

    theirs, ours = fake_twilio.requests[:2], fake_twilio.requests[2:]
    assert [wire(record) for record in ours] == [wire(record) for record in theirs]
    looked = fake_twilio.lookups
    assert len(looked) == 2 and wire(looked[1]) == wire(looked[0])
    # The SMS went out whole: the form encoding round-trips.
    assert fake_twilio.messages[-1].body == awkward(sms).text


def test_a_send_does_not_go_through_requests(
    fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a requests session was used")

    monkeypatch.setattr(requests.Session, "send", refuse)

    receipt = send_sms(sms_client(fake_twilio))

    assert receipt.provider_id == fake_twilio.messages[-1].sid


def test_the_proxy_from_the_environment_is_used_with_its_credentials(
    fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake serves a proxied request too: it reads the path out of the absolute URL.
    monkeypatch.setenv("HTTP_PROXY", f"http://relay:p%40ss@127.0.0.1:{fake_twilio.port}")
    settings = settings_for(fake_twilio, twilio_api_base_url=None)
    twilio = build_twilio_client(settings)
    twilio.edge = twilio.region = None
    twilio.api.base_url = "http://twilio.invalid"

    TwilioSmsClient(settings, twilio=twilio).send(
        planned(Channel.SMS), rendered(Channel.SMS, Lang.FR, settings), MOBILE
    )

    (record,) = fake_twilio.messages
    assert record.headers["host"] == "twilio.invalid"
    assert record.headers["proxy-authorization"] == "Basic " + base64.b64encode(
        b"relay:p@ss"
    ).decode()


def test_a_test_servers_address_is_reached_without_the_proxy(
    fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = _closed_port()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed}")
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{closed}")

    send_sms(sms_client(fake_twilio))

    assert len(fake_twilio.messages) == 1


# -- failure classes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "failure", "code", "wait"),
    [
        (Outcome.error(21610), FailureClass.PERMANENT, "21610", None),
        (Outcome.too_many_requests(retry_after=7), FailureClass.TRANSIENT, "20429", 7.0),
        (Outcome(status=503, code=20503, accepted=False, retry_after=9),
         FailureClass.AMBIGUOUS, "20503", 9.0),
        (Outcome.server_error(500, accepted=True), FailureClass.AMBIGUOUS, "20500", None),
        (Outcome.error(20003), FailureClass.CONFIGURATION, "20003", None),
        (Outcome.timeout(30, accepted=True), FailureClass.AMBIGUOUS, "timeout", None),
        # The request was written and read; the connection closed without a word.
        (Outcome(accepted=False, answer=False), FailureClass.AMBIGUOUS, "connection-lost", None),
    ],
)
def test_each_way_a_create_fails_has_its_class(
    fake_twilio: FakeTwilio, outcome: Outcome, failure: FailureClass, code: str,
    wait: float | None,
) -> None:
    fake_twilio.script_messages(outcome)
    client = sms_client(fake_twilio, twilio_timeout=dt.timedelta(seconds=0.5))

    error = sms_refusal(client)

    assert (error.failure, error.code, error.retry_after) == (failure, code, wait)
    assert error.opted_out is (code == "21610")
    # Sent once, whatever came back: no HTTP-level retry.
    assert len(fake_twilio.requests) == 1


def test_an_answer_cut_short_is_ambiguous(fake_twilio: FakeTwilio) -> None:
    fake_twilio.script_messages(Outcome.cut_short())

    error = sms_refusal(sms_client(fake_twilio))

    assert (error.failure, error.code) == (FailureClass.AMBIGUOUS, "connection-lost")
    assert len(fake_twilio.requests) == 1 and len(fake_twilio.messages) == 1


def test_a_refused_connection_is_transient(fake_twilio: FakeTwilio) -> None:
    client = sms_client(fake_twilio, twilio_api_base_url=f"http://127.0.0.1:{_closed_port()}")

    error = sms_refusal(client)

    assert (error.failure, error.code) == (FailureClass.TRANSIENT, "connection")


def test_a_connect_timeout_is_transient(fake_twilio: FakeTwilio) -> None:
    with _unanswered_listener() as port:
        client = sms_client(fake_twilio, twilio_api_base_url=f"http://127.0.0.1:{port}",
                            twilio_timeout=dt.timedelta(seconds=0.3))
        began = time.monotonic()
        error = sms_refusal(client)

    assert (error.failure, error.code) == (FailureClass.TRANSIENT, "connection")
    assert time.monotonic() - began < 5


@pytest.mark.parametrize(
    ("outage", "code", "wait"),
    [
        (Outcome(status=503, code=20503, accepted=False, retry_after=4), "20503", 4.0),
        (Outcome.too_many_requests(retry_after=6), "20429", 6.0),
        (Outcome.timeout(30), "timeout", None),
    ],
)
def test_a_lookup_that_fails_leaves_the_attempt_unknown(
    fake_twilio: FakeTwilio, outage: Outcome, code: str, wait: float | None
) -> None:
    client = sms_client(fake_twilio, twilio_timeout=dt.timedelta(seconds=0.5))
    text = rendered(Channel.SMS, Lang.FR, client.settings)
    fake_twilio.fail_all(outage)

    with pytest.raises(DeliveryError) as raised:
        client.find_sent(planned(Channel.SMS), text, MOBILE, between=SPAN, taken=lambda _: False)

    assert (raised.value.failure, raised.value.code) == (FailureClass.AMBIGUOUS, code)
    assert raised.value.retry_after == wait
    assert len(fake_twilio.lookups) == 1  # asked once: no HTTP-level retry on a GET either


# -- shared between worker threads ----------------------------------------------------------


def test_each_thread_reads_the_headers_of_its_own_answer(fake_twilio: FakeTwilio) -> None:
    twilio = build_twilio_client(settings_for(fake_twilio))
    http = twilio.http_client
    url = f"{fake_twilio.base_url}/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    form = {"To": MOBILE, "From": "+15145550100", "Body": "x"}
    fake_twilio.script_messages(Outcome.too_many_requests(retry_after=7), Outcome.ok())
    answered, read = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def limited() -> None:
        assert http.request("POST", url, data=form, auth=twilio.auth).status_code == 429
        answered.set()
        read.wait(timeout=30)
        seen["limited"] = dict(http.last_headers()).get("Retry-After")

    thread = threading.Thread(target=limited)
    thread.start()
    assert answered.wait(timeout=30)
    # Another thread's answer comes in between: the first thread still reads its own.
    assert http.request("POST", url, data=form, auth=twilio.auth).status_code == 201
    read.set()
    thread.join(timeout=30)

    assert seen == {"limited": "7"}
    assert "Retry-After" not in dict(http.last_headers())


def test_worker_threads_share_one_client(fake_twilio: FakeTwilio) -> None:
    client = sms_client(fake_twilio)
    sids: list[str] = []
    lock = threading.Lock()

    def send_some() -> None:
        for _ in range(10):
            receipt = send_sms(client)
            with lock:
                sids.append(receipt.provider_id)

    threads = [threading.Thread(target=send_some) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(sids) == sorted(str(record.sid) for record in fake_twilio.messages)
    assert len(set(sids)) == 80


def _closed_port() -> int:
    """A loopback port nothing listens on (connecting is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _unanswered_listener() -> Iterator[int]:
    """A loopback port whose accept queue is full: the kernel ignores further connection
    attempts, so a client's connect runs out of time. Skips the test where the kernel
    answers them anyway."""
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        for _ in range(8):
            filler = stack.enter_context(socket.socket())
            filler.settimeout(0.2)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                break  # the queue is full
        else:
            pytest.skip("this kernel completes every connection: no connect timeout to make")
        yield port
