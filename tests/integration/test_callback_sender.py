"""Posting a callback to a real receiver on loopback, which checks each signature with the
standardwebhooks package: what each answer and each failure becomes, and that the request
goes to the address the destination check passed."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3

from notifier.callbacks.destination_check import Rejection
from notifier.callbacks.events import body_bytes
from notifier.callbacks.sender import MAX_ANSWER_BYTES, Attempt, Failure, new_pools, post_callback
from notifier.callbacks.signing import new_secret, webhook_headers
from tests.fakes.webhook_receiver import FakeReceiver

SECRET = new_secret()
EVENT = {"id": "evt_1741100531250-0", "type": "message.delivered",
         "timestamp": "2025-03-04T15:02:11Z", "data": {"reference": "RV-88412"}}
BODY = body_bytes(EVENT)
TLS_NAME = "hooks.example.test"


def signed(secrets: list[str] | None = None) -> dict[str, str]:
    # The receiver's library checks the timestamp against its own clock.
    return webhook_headers(secrets or [SECRET], str(EVENT["id"]), int(time.time()), BODY)


@pytest.fixture
def receiver() -> Iterator[FakeReceiver]:
    with FakeReceiver(secrets=[SECRET]) as fake:
        yield fake


@pytest.fixture
def pools() -> Iterator[urllib3.PoolManager]:
    manager = new_pools()
    yield manager
    manager.clear()


def post(url: str, pools: urllib3.PoolManager, **options: Any) -> Attempt:
    options.setdefault("allow_private", True)
    return post_callback(url, signed(), BODY, pools=pools, **options)


def test_a_200_delivers_a_signed_callback(receiver: FakeReceiver,
                                          pools: urllib3.PoolManager) -> None:
    attempt = post(receiver.url("/ok"), pools)

    assert (attempt.status, attempt.failure, attempt.delivered) == (200, None, True)
    [got] = receiver.received
    assert got.verified
    assert got.body == BODY
    assert got.headers["webhook-id"] == "evt_1741100531250-0"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["host"] == f"127.0.0.1:{receiver.port}"


@pytest.mark.parametrize(("path", "status", "retryable"), [
    ("/error", 500, True), ("/gone", 410, False),
])
def test_an_error_status_is_a_failed_attempt(receiver: FakeReceiver, pools: urllib3.PoolManager,
                                            path: str, status: int, retryable: bool) -> None:
    attempt = post(receiver.url(path), pools)

    assert (attempt.status, attempt.delivered, attempt.retryable) == (status, False, retryable)
    assert attempt.gone is (status == 410)
    assert attempt.failure is None
    assert receiver.received[0].verified


def test_a_429_brings_its_retry_after(receiver: FakeReceiver,
                                      pools: urllib3.PoolManager) -> None:
    attempt = post(receiver.url("/busy"), pools)
    assert (attempt.status, attempt.retry_after, attempt.retryable) == (429, "120", True)


def test_a_redirect_is_not_followed(receiver: FakeReceiver, pools: urllib3.PoolManager) -> None:
    attempt = post(receiver.url("/moved"), pools)

    assert (attempt.status, attempt.failure, attempt.retryable) == (
        301, Failure.REDIRECT_NOT_FOLLOWED, True)
    assert [got.path for got in receiver.received] == ["/moved"]


def test_a_receiver_that_does_not_answer_in_time_is_a_timeout(
    receiver: FakeReceiver, pools: urllib3.PoolManager,
) -> None:
    attempt = post(receiver.url("/slow"), pools, timeout=0.5)

    assert (attempt.status, attempt.failure, attempt.retryable) == (None, Failure.TIMEOUT, True)
    assert 0.5 <= attempt.elapsed < 5
    assert [got.path for got in receiver.received] == ["/slow"]


def test_a_closed_port_is_a_connection_failure(pools: urllib3.PoolManager) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    attempt = post(f"http://127.0.0.1:{port}/ok", pools)
    assert (attempt.status, attempt.failure) == (None, Failure.CONNECTION)


def test_a_wrong_signature_is_what_the_receiver_refuses(receiver: FakeReceiver,
                                                        pools: urllib3.PoolManager) -> None:
    attempt = post_callback(receiver.url("/ok"), signed([new_secret()]), BODY, pools=pools,
                            allow_private=True)
    assert attempt.status == 400
    assert not receiver.received[0].verified


def test_a_large_answer_is_cut_short_and_its_connection_dropped(
    receiver: FakeReceiver, pools: urllib3.PoolManager,
) -> None:
    assert post(receiver.url("/large"), pools).status == 200
    assert post(receiver.url("/ok"), pools).status == 200

    first, second = receiver.received
    assert first.client_port != second.client_port
    assert MAX_ANSWER_BYTES < 1 << 20


def test_connections_are_kept_between_attempts(receiver: FakeReceiver,
                                               pools: urllib3.PoolManager) -> None:
    for _ in range(3):
        assert post(receiver.url("/ok"), pools).delivered
    assert len({got.client_port for got in receiver.received}) == 1


def test_loopback_is_refused_unless_private_addresses_are_allowed(
    receiver: FakeReceiver, pools: urllib3.PoolManager,
) -> None:
    attempt = post(receiver.url("/ok"), pools, allow_private=False)

    assert (attempt.status, attempt.failure, attempt.rejection) == (
        None, Failure.REFUSED_DESTINATION, Rejection.SCHEME)
    assert receiver.received == []


def test_a_host_that_does_not_resolve_is_a_connection_failure(
    pools: urllib3.PoolManager,
) -> None:
    def nothing(*_: Any, **__: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    attempt = post("https://hooks.example.test/ok", pools, resolve=nothing)
    assert (attempt.failure, attempt.rejection) == (Failure.CONNECTION, Rejection.UNRESOLVED)


class Rebinding:
    """A resolver that answers the receiver's address once, then somewhere else."""

    def __init__(self, first: str, then: str) -> None:
        self.answers = [first, then]
        self.asked = 0

    def __call__(self, host: str, port: int, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        address = self.answers[min(self.asked, 1)]
        self.asked += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


@pytest.fixture
def tls_receiver() -> Iterator[FakeReceiver]:
    try:
        fake = FakeReceiver(secrets=[SECRET], tls_name=TLS_NAME)
    except FileNotFoundError as missing:
        pytest.skip(str(missing))
    with fake:
        yield fake


def test_https_connects_to_the_checked_address_and_names_the_host(
    tls_receiver: FakeReceiver,
) -> None:
    pools = new_pools(ca_file=tls_receiver.ca_file)
    # The name resolves nowhere else: the connection uses the address the check resolved,
    # and a second resolution pointing elsewhere would fail it.
    resolver = Rebinding("127.0.0.1", "192.0.2.1")
    attempt = post(tls_receiver.url("/ok"), pools, resolve=resolver)

    assert (attempt.status, attempt.failure) == (200, None)
    assert resolver.asked == 1
    assert tls_receiver.server_names == [TLS_NAME]
    [got] = tls_receiver.received
    assert got.headers["host"] == f"{TLS_NAME}:{tls_receiver.port}"
    assert got.verified


def test_https_checks_the_certificate_against_the_url_s_host_not_the_address(
    tls_receiver: FakeReceiver,
) -> None:
    pools = new_pools(ca_file=tls_receiver.ca_file)
    resolver = Rebinding("127.0.0.1", "127.0.0.1")
    attempt = post(tls_receiver.url("/ok", host="other.example.test"), pools,
                   resolve=resolver)

    assert (attempt.status, attempt.failure) == (None, Failure.CONNECTION)
    assert tls_receiver.received == []


def test_https_trusts_only_known_authorities(tls_receiver: FakeReceiver) -> None:
    attempt = post(tls_receiver.url("/ok"), new_pools(),
                   resolve=Rebinding("127.0.0.1", "127.0.0.1"))
    assert (attempt.status, attempt.failure) == (None, Failure.CONNECTION)


def test_nothing_of_the_body_or_signature_reaches_the_logs(
    receiver: FakeReceiver, pools: urllib3.PoolManager, caplog: pytest.LogCaptureFixture,
) -> None:
    headers = signed()
    with caplog.at_level("DEBUG"):
        post_callback(receiver.url("/error"), headers, BODY, pools=pools, allow_private=True)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "RV-88412" not in logged
    assert headers["webhook-signature"].split(",")[1] not in logged
    assert "internal error" not in logged
