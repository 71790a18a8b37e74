"""A rude client cannot take the real ``notifier web`` process down: a flood of idle
connections, on a host with the common limit of 1,024 open files, neither keeps the
health check and the STOP webhook from answering nor fills the log with tracebacks."""

from __future__ import annotations

import datetime as dt
import resource
import select
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from notifier.domain import Channel
from notifier.store.optouts import OptOutStore
from tests.harness import GatewayConfig, Processes, wait_until
from tests.security.conftest import API_TOKEN, PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN, TwilioWebhooks

IDLE_CONNECTIONS = 1100
FILES_LIMIT = 1024  # the usual default soft limit, here the hard one too
ANSWER_WITHIN = 5.0  # seconds, for each request made during the flood
HEADER_TIMEOUT = 2  # seconds; shortened so that the test can watch the sockets close
MAX_CONNECTIONS = 100  # below what the flood brings in at once, whatever the host's speed
PATIENT = "+15145550142"


@contextmanager
def own_files_limit(needed: int) -> Iterator[None]:
    """Let this test process hold ``needed`` sockets (its soft limit raised, then restored)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        yield
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"this host allows {hard} open files; the test needs {needed}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def open_idle(port: int, count: int) -> list[socket.socket]:
    """``count`` connections to loopback that never send a byte."""
    sockets = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))  # completes in the background
        sockets.append(sock)
    return sockets


def ready(sock: socket.socket, events: int) -> bool:
    """Whether ``sock`` is ready for ``events`` now (poll: select stops at fd 1024)."""
    poller = select.poll()
    poller.register(sock, events)
    return bool(poller.poll(0))


def connected(sock: socket.socket) -> bool:
    return ready(sock, select.POLLOUT) and (
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
    )


def closed_by_server(sock: socket.socket) -> bool:
    if not ready(sock, select.POLLIN):
        return False
    try:
        return sock.recv(4096) == b""  # an answer first, if any
    except (ConnectionResetError, BrokenPipeError):
        return True
    except BlockingIOError:
        return False


def answer_keyword(base: str, word: str, sid: int) -> float:
    """Check the health and send ``word`` from the patient, signed; returns the seconds
    both took (each is allowed ANSWER_WITHIN)."""
    started = time.monotonic()
    with httpx.Client(base_url=base, timeout=ANSWER_WITHIN) as http:
        assert http.get("/healthz").status_code == 200
        answer = TwilioWebhooks(http).post(PUBLIC_BASE_URL + "/v1/twilio/sms", {
            "AccountSid": "AC" + "0" * 32, "MessageSid": f"SM{sid:032d}", "From": PATIENT,
            "To": "+15145550000", "Body": word, "NumMedia": "0",
        })
    assert answer.status_code == 200 and "<Message>" in answer.text
    return time.monotonic() - started


def test_a_flood_of_idle_connections_does_not_block_the_stop_webhook(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    config = GatewayConfig(
        redis_url=redis_url, api_token=API_TOKEN, outbox_dir=tmp_path / "outbox",
        twilio_auth_token=TWILIO_AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL,
        web_header_timeout=dt.timedelta(seconds=HEADER_TIMEOUT),
        web_overload_log_interval=dt.timedelta(seconds=1),
        web_max_connections=MAX_CONNECTIONS,
    )
    with own_files_limit(IDLE_CONNECTIONS + 200), \
            Processes(config, workdir=tmp_path / "processes") as processes:
        web = processes.start_web(fd_limit=FILES_LIMIT)
        assert web.port is not None
        logged_before = len(web.latest_output())
        base = f"http://127.0.0.1:{web.port}"
        store = OptOutStore(redis_client, config.settings())
        idle = open_idle(web.port, IDLE_CONNECTIONS)
        try:
            print(f"\nSTOP answered in {answer_keyword(base, 'STOP', 1):.2f}s as the flood began")
            assert store.is_opted_out(PATIENT, Channel.SMS)

            # Idle connections are not kept: each one the server took is closed within the
            # header timeout (the rest still wait for the kernel to retry their handshake).
            taken = [sock for sock in idle if connected(sock)]
            print(f"{len(taken)} idle connections established")
            assert len(taken) >= 100
            print(f"START answered in {answer_keyword(base, 'START', 2):.2f}s once it landed")
            assert not store.is_opted_out(PATIENT, Channel.SMS)
            wait_until(lambda: all(closed_by_server(sock) for sock in taken),
                       timeout=HEADER_TIMEOUT + 3, what="every idle connection to be closed",
                       poll=0.2)
            wait_until(lambda: all(reason in web.latest_output()[logged_before:]
                                   for reason in (" idle", " evicted")),
                       timeout=5, what="the closings to be logged")
        finally:
            for sock in idle:
                sock.close()

        logged = web.latest_output()[logged_before:]
        assert "Traceback" not in logged
        # One summary line per interval, not a line per socket.
        assert len(logged) < 4096, logged[:2000]
        print(logged)


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(b"POST /v1/twilio/sms HTTP/1.1\r\nHost: gateway\r\nContent-Le", id="head"),
        pytest.param(
            b"POST /v1/twilio/sms HTTP/1.1\r\nHost: gateway\r\nContent-Length: 400\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\nBody=ST",
            id="body",
        ),
        pytest.param(
            b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"
            b"POST /v1/twilio/sms HTTP/1.1\r\nHost: gateway\r\nContent-Length: 400\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\nBody=ST",
            id="pipelined-body",
        ),
    ],
)
def test_a_request_sent_too_slowly_is_cut_off_quietly(
    redis_url: str, tmp_path: Path, sent: bytes
) -> None:
    config = GatewayConfig(
        redis_url=redis_url, api_token=API_TOKEN, outbox_dir=tmp_path / "outbox",
        twilio_auth_token=TWILIO_AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL,
        web_header_timeout=dt.timedelta(seconds=1), web_body_timeout=dt.timedelta(seconds=1),
        web_overload_log_interval=dt.timedelta(seconds=1),
    )
    with Processes(config, workdir=tmp_path / "processes") as processes:
        web = processes.start_web()
        assert web.port is not None
        with socket.create_connection(("127.0.0.1", web.port), timeout=5) as slow:
            slow.sendall(sent)
            slow.setblocking(False)
            wait_until(lambda: closed_by_server(slow), timeout=4,
                       what="the slow request to be cut off", poll=0.1)
        reason = "slow body" if b"\r\n\r\n" in sent else "idle"
        wait_until(lambda: f"1 {reason}" in web.latest_output(), timeout=4,
                   what="the closing to be logged")
        assert "Traceback" not in web.latest_output()


def test_an_unfinished_request_head_is_held_up_to_16_kib(redis_url: str, tmp_path: Path) -> None:
    config = GatewayConfig(redis_url=redis_url, api_token=API_TOKEN,
                           outbox_dir=tmp_path / "outbox")
    with Processes(config, workdir=tmp_path / "processes") as processes:
        web = processes.start_web()
        assert web.port is not None
        padded = httpx.get(f"http://127.0.0.1:{web.port}/healthz", timeout=5,
                           headers={"X-Padding": "a" * 15_000})
        assert padded.status_code == 200
        with socket.create_connection(("127.0.0.1", web.port), timeout=5) as rude:
            start = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Padding: "
            rude.sendall(start + b"a" * (16 * 1024 + 1 - len(start)))  # no end in sight
            assert rude.recv(64).startswith(b"HTTP/1.1 400 ")
        assert "Traceback" not in web.latest_output()


def test_a_small_files_limit_lowers_the_connection_limit_with_a_warning(
    redis_url: str, tmp_path: Path
) -> None:
    files_limit = 400  # room for 400 - 128 (one accept burst) - 64 (the rest) = 208
    config = GatewayConfig(redis_url=redis_url, api_token=API_TOKEN,
                           outbox_dir=tmp_path / "outbox",
                           web_overload_log_interval=dt.timedelta(seconds=1))
    assert config.settings().web_max_connections > 208
    with own_files_limit(500), Processes(config, workdir=tmp_path / "processes") as processes:
        web = processes.start_web(fd_limit=files_limit)
        assert web.port is not None
        assert "NOTIFIER_WEB_MAX_CONNECTIONS lowered to 208" in web.latest_output()
        idle = open_idle(web.port, 260)
        try:
            # Above the lowered limit, the idle connections make room for one another.
            wait_until(lambda: " evicted" in web.latest_output(), timeout=5,
                       what="the lowered limit to evict idle connections")
            assert httpx.get(f"http://127.0.0.1:{web.port}/healthz", timeout=5).status_code == 200
        finally:
            for sock in idle:
                sock.close()
        assert "Traceback" not in web.latest_output()
