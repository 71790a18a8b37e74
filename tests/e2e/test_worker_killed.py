"""A worker killed (SIGKILL) in the middle of a send: the documented outcome.

``notifier/sending.py``: a send interrupted mid-way leaves its delivery record
``submitting``; when Dramatiq redelivers the message, the send step asks Twilio for the
recipient's latest messages before it sends anything: the SMS the dead attempt created is
found and recorded, and nothing is sent twice. Had Twilio not taken it, it would be sent
again, the resend counted in the record's ``ambiguous`` field.

Here the fake Twilio takes the SMS and holds its answer; the worker (the Dramatiq master
and its worker process, the whole group) is killed while it waits. Dramatiq gives the
unacked message back only once the dead worker's heartbeat is older than the broker's
heartbeat timeout, at a maintenance pass: both are shortened by settings. The redelivered
attempt then waits for the dead attempt's lock to lapse (``attempt_lock``: a rate-limit
wait plus three Twilio timeouts, 11 s here) before it asks.
"""

from __future__ import annotations

import datetime as dt

import pytest
import redis

from notifier.domain import Channel, Kind
from notifier.names import SEND_QUEUE
from notifier.store.deliveries import DeliveryLog
from notifier.store.intake import Intake
from tests.e2e.conftest import Launch
from tests.factories import ZONE, event
from tests.fakes.twilio_server import FakeTwilio, Outcome
from tests.harness import GatewayConfig, wait_until

pytestmark = pytest.mark.slow

MOBILE = "+15145550188"  # the factory's patient


def test_a_worker_killed_mid_send_finds_the_sms_it_had_handed_over_and_sends_it_once(
    base_config: GatewayConfig, launch: Launch, fake_twilio: FakeTwilio,
    redis_client: redis.Redis,
) -> None:
    config = base_config.with_values(
        worker_heartbeat_timeout=dt.timedelta(seconds=3), broker_maintenance_chance=1_000_000,
        twilio_timeout=dt.timedelta(seconds=2),
    )
    settings = config.settings()
    processes = launch(config)
    processes.start_worker(threads=2)
    # Twilio takes the SMS and then says nothing, long enough for the worker to die waiting.
    fake_twilio.script_messages(Outcome.timeout(60, accepted=True))

    now = dt.datetime.now(dt.UTC)
    start = (now + dt.timedelta(days=5)).astimezone(ZONE).replace(hour=10, minute=30,
                                                                  second=0, microsecond=0)
    intake = Intake(redis_client, settings)
    booked = event("booked", start=start, at=now, modes=("sms",))
    assert intake.accept(booked, now).status_code == 202
    (confirmation,) = [m for m in intake.schedule.pending(booked.appointment.reference)
                       if m.kind is Kind.CONFIRMATION]
    assert confirmation.channel is Channel.SMS
    key = confirmation.key
    deliveries = DeliveryLog(redis_client, keys=intake.keys, retention=dt.timedelta(days=1))
    processes.start_scheduler()  # hands the confirmation to the worker

    (held,) = fake_twilio.wait_for_messages(1, timeout=30)
    assert held.to == MOBILE
    assert deliveries.get(key)["status"] == "submitting"
    processes.kill("worker")

    dead = deliveries.get(key)
    assert dead["status"] == "submitting" and "ambiguous" not in dead
    assert "ambiguous failure" not in processes["worker"].output(), (
        "the worker timed out before it was killed: this would test the timeout, not the kill"
    )

    processes.restart("worker")
    wait_until(lambda: deliveries.get(key).get("status") == "accepted", timeout=45,
               what="the redelivered message to find the SMS and record it accepted",
               hint=lambda: f"record {deliveries.get(key)}")
    wait_until(lambda: processes.queue_settled(SEND_QUEUE), timeout=30,
               what="the send queue to have nothing waiting, running or delayed")

    record = deliveries.get(key)
    sent = [m for m in fake_twilio.messages if m.to == MOBILE]
    assert [m.sid for m in sent] == [held.sid]
    assert record["status"] == "accepted" and "ambiguous" not in record
    assert record["provider_id"] == held.sid
    assert [lookup.get("To") for lookup in fake_twilio.lookups] == [MOBILE]
    assert processes.dead_letters(SEND_QUEUE) == 0
    assert "the interrupted attempt had reached its provider" in processes["worker"].output()
