"""Graceful shutdown: SIGTERM to each real process (to the Dramatiq master only, as an
operator's process manager must: a SIGTERM sent to every worker process at once can hang
one) finishes the work in hand within a bound, leaves nothing claimed or half-done, and
exits 0.

Each test prints the measured time from SIGTERM to exit (``pytest -s`` shows them).
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import socket
import time

import pytest
import redis

from notifier.domain import Channel, Kind
from notifier.names import SEND_QUEUE
from notifier.planning.entries import PlannedMessage
from notifier.store.deliveries import DeliveryLog
from notifier.store.intake import Intake
from notifier.store.schedule import Schedule
from tests.e2e.conftest import API_TOKEN, Launch, booking
from tests.factories import ZONE, event
from tests.fakes.twilio_server import FakeTwilio, Outcome
from tests.harness import GatewayConfig, Managed, Processes, wait_until

pytestmark = pytest.mark.slow

# How long a process may take to exit once its work in hand is done.
EXIT_BOUND = 5.0
HOLD = 3.0  # seconds the fake Twilio holds the SMS in hand (under the client's 5 s timeout)
BACKLOG = 20_000  # due messages for the scheduler's pass


def sigterm(managed: Managed) -> float:
    """Send SIGTERM to the process itself; return the monotonic time it was sent."""
    assert managed.popen is not None
    managed.popen.send_signal(signal.SIGTERM)
    return time.monotonic()


def exit_status(managed: Managed, *, within: float) -> int:
    assert managed.popen is not None
    return managed.popen.wait(timeout=within)


def stopped_cleanly(status: int) -> bool:
    """0, or for the web process the SIGTERM that uvicorn (>= 0.29) raises again on itself
    once its graceful shutdown is complete, so that a supervisor sees the conventional
    "terminated on request" status (143 in a shell)."""
    return status in (0, -signal.SIGTERM)


def report(what: str, seconds: float) -> None:
    print(f"\nshutdown time, {what}: {seconds:.2f} s")


# -- web ----------------------------------------------------------------------------------


def _start_upload(port: int, body: bytes) -> socket.socket:
    """Open a request to POST /v1/events whose body is not sent yet, and return once the app
    is reading it: ``Expect: 100-continue`` makes uvicorn answer ``100 Continue`` exactly
    when the app first asks for the body."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {API_TOKEN}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    connection.sendall(head.encode())
    assert connection.recv(1024).startswith(b"HTTP/1.1 100 Continue")
    return connection


def _answer(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_web_answers_the_request_in_flight_then_exits(
    base_config: GatewayConfig, launch: Launch, redis_client: redis.Redis
) -> None:
    processes = launch(base_config)
    web = processes.start_web()
    assert web.port is not None
    now = dt.datetime.now(dt.UTC)
    start = (now + dt.timedelta(days=5)).astimezone(ZONE).replace(hour=10, minute=0)
    body = json.dumps(booking(
        reference="0000800001", first_name="Océane", last_name="Pelletier", language="fr",
        mobile="+15145550131", home="+15145550132", email="oceane.pelletier@example.org",
        modes=("sms",), start=start, at=now,
    )).encode()
    connection = _start_upload(web.port, body)

    sent = sigterm(web)
    wait_until(lambda: "Shutting down" in web.latest_output(), timeout=EXIT_BOUND,
               what="the web process to begin its shutdown")
    wait_until(lambda: _refuses_connections(web.port or 0), timeout=EXIT_BOUND,
               what="the web process to stop accepting connections")
    connection.sendall(body)
    answer = _answer(connection)
    status = exit_status(web, within=EXIT_BOUND)
    elapsed = time.monotonic() - sent

    report("web, one request in flight", elapsed)
    assert answer.startswith(b"HTTP/1.1 202"), answer[:200]
    assert stopped_cleanly(status)
    assert redis_client.exists(Intake(redis_client, processes.settings).keys.appointment(
        "0000800001"))


def test_web_exits_within_a_bound_even_when_a_client_stalls(
    base_config: GatewayConfig, launch: Launch
) -> None:
    processes = launch(base_config)
    web = processes.start_web()
    assert web.port is not None
    connection = _start_upload(web.port, b"{" * 1000)  # and never sends the body

    sent = sigterm(web)
    try:
        status = exit_status(web, within=10.0)
    finally:
        connection.close()
    report("web, a stalled client", time.monotonic() - sent)
    assert stopped_cleanly(status)


def test_web_exits_at_once_when_idle(base_config: GatewayConfig, launch: Launch) -> None:
    processes = launch(base_config)
    web = processes.start_web()

    sent = sigterm(web)
    status = exit_status(web, within=EXIT_BOUND)

    report("web, idle", time.monotonic() - sent)
    assert stopped_cleanly(status)


# -- worker -------------------------------------------------------------------------------


def _book_sms(processes: Processes, reference: str) -> str:
    """Accept a booking whose SMS confirmation is due now; return the confirmation's key."""
    now = dt.datetime.now(dt.UTC)
    start = (now + dt.timedelta(days=5)).astimezone(ZONE).replace(hour=10, minute=0)
    booked = event("booked", reference=reference, start=start, at=now, modes=("sms",))
    client = processes.redis
    answer = Intake(client, processes.settings).accept(booked, now)
    planned = answer.body["planned"]
    assert {"kind": "confirmation", "channel": "sms"}.items() <= planned[0].items()
    return f"{reference}:confirmation:sms:v1"


def test_worker_finishes_the_send_in_hand_then_exits_0(
    base_config: GatewayConfig, launch: Launch, fake_twilio: FakeTwilio,
    redis_client: redis.Redis,
) -> None:
    processes = launch(base_config)
    worker = processes.start_worker(processes=1, threads=2)
    processes.start_scheduler()
    fake_twilio.script_messages(Outcome.timeout(HOLD, accepted=True))  # answered after HOLD
    key = _book_sms(processes, "0000800002")
    fake_twilio.wait_for_messages(1, timeout=30)  # the send is in the worker's hands

    sent = sigterm(worker)
    status = exit_status(worker, within=HOLD + EXIT_BOUND)
    elapsed = time.monotonic() - sent

    report(f"worker, one send held {HOLD:g} s by the provider", elapsed)
    assert status == 0
    assert len(fake_twilio.messages) == 1  # sent once, not abandoned and sent again
    record = DeliveryLog(redis_client, keys=processes.keys,
                         retention=processes.settings.delivery_retention).get(key)
    assert record["status"] == "accepted", record  # the answer was recorded before exit
    assert processes.queue_settled(SEND_QUEUE)  # acknowledged: nothing to redeliver
    assert processes.dead_letters(SEND_QUEUE) == 0


def test_worker_exits_at_once_when_idle(base_config: GatewayConfig, launch: Launch) -> None:
    processes = launch(base_config)
    worker = processes.start_worker(processes=2, threads=2)

    sent = sigterm(worker)
    status = exit_status(worker, within=EXIT_BOUND + 5)

    report("worker (2 processes), idle", time.monotonic() - sent)
    assert status == 0


def test_work_left_in_the_queue_by_a_stopped_worker_is_done_by_the_next(
    base_config: GatewayConfig, launch: Launch, fake_twilio: FakeTwilio,
    redis_client: redis.Redis,
) -> None:
    # The first worker holds one send; SIGTERM stops it taking more. What is still queued
    # (not yet in its hands) waits in Redis for the next worker: nothing is lost.
    processes = launch(base_config.with_values(sms_segments_per_second=50))
    worker = processes.start_worker(processes=1, threads=1)
    processes.start_scheduler()
    fake_twilio.script_messages(Outcome.timeout(HOLD, accepted=True))
    keys = [_book_sms(processes, f"00008001{i:02d}") for i in range(5)]
    fake_twilio.wait_for_messages(1, timeout=30)

    sigterm(worker)
    assert exit_status(worker, within=HOLD + EXIT_BOUND) == 0
    processes.start_worker("worker-2", processes=1, threads=2)
    fake_twilio.wait_for_messages(len(keys), timeout=30)
    wait_until(lambda: processes.queue_settled(SEND_QUEUE), timeout=30,
               what="the send queue to empty")

    assert sorted(record.to or "" for record in fake_twilio.messages) == sorted(
        ["+15145550188"] * len(keys)
    )
    deliveries = DeliveryLog(redis_client, keys=processes.keys,
                             retention=processes.settings.delivery_retention)
    assert {deliveries.get(key)["status"] for key in keys} == {"accepted"}


# -- scheduler ----------------------------------------------------------------------------


def _stage_due(processes: Processes, count: int) -> None:
    """``count`` SMS confirmations due a minute ago, straight into the schedule."""
    now = dt.datetime.now(dt.UTC)
    schedule = Schedule(processes.redis, keys=processes.keys,
                        lease=processes.settings.scheduler_lease)
    for first in range(0, count, 1000):
        with processes.redis.pipeline(transaction=False) as pipe:
            for n in range(first, min(first + 1000, count)):
                message = PlannedMessage(
                    reference=f"{n:010d}", kind=Kind.CONFIRMATION, channel=Channel.SMS,
                    version=1, send_at=now - dt.timedelta(minutes=1),
                    deadline=now + dt.timedelta(days=1), start=now + dt.timedelta(days=5),
                )
                schedule.stage_changes(pipe, message.reference, upserts=[message], removals=[],
                                       expire_at=now + dt.timedelta(days=6))
            pipe.execute()


def _queued(processes: Processes) -> list[str]:
    """The references of the messages waiting in Dramatiq's send queue."""
    raw = processes.redis.hvals(f"{processes.namespace}:{SEND_QUEUE}.msgs")
    return [PlannedMessage.from_dict(json.loads(message)["args"][0]).reference
            for message in raw]


def test_scheduler_finishes_its_pass_and_exits_0_with_nothing_claimed(
    base_config: GatewayConfig, launch: Launch, redis_client: redis.Redis
) -> None:
    processes = launch(base_config)
    scheduler = processes.start_scheduler()  # no worker: handed-off messages stay queued
    schedule = Schedule(redis_client, keys=processes.keys,
                        lease=processes.settings.scheduler_lease)
    _stage_due(processes, BACKLOG)
    queue = f"{processes.namespace}:{SEND_QUEUE}.msgs"
    wait_until(lambda: redis_client.hlen(queue) > 0, timeout=10,
               what="the scheduler to start handing off")

    sent = sigterm(scheduler)
    status = exit_status(scheduler, within=60)
    elapsed = time.monotonic() - sent
    handed_at_exit = redis_client.hlen(queue)

    report(f"scheduler, mid-pass over {BACKLOG} due messages "
           f"({handed_at_exit} handed off by exit)", elapsed)
    assert status == 0
    assert "scheduler stopped" in scheduler.latest_output()
    assert schedule.claimed_count() == 0  # every claim was handed off and acknowledged
    queued = _queued(processes)
    assert len(queued) == len(set(queued))  # none handed off twice
    assert len(queued) + schedule.size() == BACKLOG  # none lost: handed off or still due


def test_scheduler_stops_after_the_batch_in_hand_however_large_the_backlog(
    base_config: GatewayConfig, launch: Launch, redis_client: redis.Redis
) -> None:
    processes = launch(base_config)
    scheduler = processes.start_scheduler()
    _stage_due(processes, BACKLOG)
    queue = f"{processes.namespace}:{SEND_QUEUE}.msgs"
    wait_until(lambda: redis_client.hlen(queue) > 0, timeout=10,
               what="the scheduler to start handing off")

    handed_before = redis_client.hlen(queue)
    sigterm(scheduler)
    assert exit_status(scheduler, within=60) == 0

    # The batch in hand at SIGTERM, maybe the next, and the one handed off between the
    # count and the signal: not the rest of the backlog.
    handed = redis_client.hlen(queue)
    assert handed <= handed_before + 3 * 500, (handed_before, handed)
    assert handed < BACKLOG


def test_scheduler_exits_at_once_when_idle(base_config: GatewayConfig, launch: Launch) -> None:
    processes = launch(base_config.with_values(scheduler_poll=dt.timedelta(seconds=30)))
    scheduler = processes.start_scheduler()

    sent = sigterm(scheduler)
    status = exit_status(scheduler, within=EXIT_BOUND)

    report("scheduler, idle (30 s poll)", time.monotonic() - sent)
    assert status == 0
