"""Queue depths as Dramatiq's broker leaves them, and the health summary built on them."""

from __future__ import annotations

import datetime as dt
import json

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel, Kind, Lang
from notifier.names import CALLBACK_QUEUE, INTAKE_QUEUE, SEND_QUEUE
from notifier.operations.queues import (
    QueueDepth,
    live_workers,
    queue_depths,
    scheduler_last_run,
)
from notifier.operations.status import describe_problem, health_summary, stale_after
from notifier.planning.entries import PlannedMessage
from notifier.scheduler import Scheduler
from notifier.settings import Settings
from notifier.store.deliveries import DeliveryLog
from notifier.store.keys import Keys
from tests.factories import event, local
from tests.integration.conftest import Gateway

START = local(2026, 12, 1, 9, 30)


def test_depths_follow_messages_through_the_broker(gateway: Gateway) -> None:
    data = event("booked", start=START, at=gateway.clock()).model_dump(mode="json")
    for _ in range(3):
        gateway.actors.intake.send(data)
    gateway.actors.intake.send_with_options(args=(data,), delay=60_000)  # as a retry waits
    # A worker takes one (this is the command a Dramatiq consumer sends).
    gateway.broker.do_fetch(INTAKE_QUEUE, 1)

    depths = queue_depths(gateway.client, gateway.settings)

    assert depths == [
        QueueDepth(queue=INTAKE_QUEUE, ready=2, delayed=1, dead=0, in_flight=1),
        QueueDepth(queue=SEND_QUEUE, ready=0, delayed=0, dead=0, in_flight=0),
        QueueDepth(queue=CALLBACK_QUEUE, ready=0, delayed=0, dead=0, in_flight=0),
    ]
    assert depths[0].to_dict() == {"queue": "intake", "ready": 2, "delayed": 1, "dead": 0,
                                   "in_flight": 1}


def test_live_workers_are_those_heard_within_the_timeout(gateway: Gateway) -> None:
    gateway.broker.do_qsize(INTAKE_QUEUE)  # any broker command is a heartbeat
    now = dt.datetime.now(dt.UTC)

    assert live_workers(gateway.client, gateway.settings, now) == 1
    assert live_workers(gateway.client, gateway.settings, now + dt.timedelta(seconds=61)) == 0
    # The broker's timeout is a setting; the count follows it.
    shorter = Settings(worker_heartbeat_timeout="10s")
    assert live_workers(gateway.client, shorter, now + dt.timedelta(seconds=11)) == 0


def test_the_scheduler_last_run_is_the_end_of_its_last_pass(gateway: Gateway) -> None:
    assert scheduler_last_run(gateway.client, gateway.settings) is None

    Scheduler(gateway.client, gateway.settings, clock=gateway.clock).run_once()

    assert scheduler_last_run(gateway.client, gateway.settings) == gateway.clock()


def test_the_summary_of_a_gateway_in_trouble(gateway: Gateway) -> None:
    # Read two minutes after the last worker stopped (heartbeats are wall-clock times).
    now = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    settings = gateway.settings
    bad = event("booked", start=now + dt.timedelta(days=7), at=now).model_dump(mode="json")
    bad["appointment"]["reason_for_visit"] = "clinical detail"
    gateway.actors.intake.send(bad)
    gateway.drain(INTAKE_QUEUE)  # a dead letter; the worker then stops
    gateway.client.set(Keys().scheduler_heartbeat, (now - dt.timedelta(minutes=5)).isoformat())
    gateway.client.zadd(Keys().schedule("sms"), {"x:reminder:sms": (now - dt.timedelta(
        minutes=2)).timestamp()})
    log = DeliveryLog(gateway.client, keys=Keys(), retention=dt.timedelta(days=1))
    for number in range(25):
        message = PlannedMessage(reference=f"{number:010d}", kind=Kind.REMINDER,
                                 channel=Channel.VOICE, version=1, send_at=now,
                                 deadline=now, start=now)
        status = DeliveryStatus.DELIVERED if number < 5 else DeliveryStatus.UNDELIVERED
        log.advance(message.key, status, now, message=message)

    summary = health_summary(gateway.client, settings, now)

    assert not summary.healthy
    assert summary.problems == ["scheduler_stale", "no_live_workers"]
    assert summary.warnings == ["dead_letters", "low_delivery_rate"]
    assert summary.scheduler_age == dt.timedelta(minutes=5)
    assert summary.dead_letters == 1
    assert summary.overdue == 1 and summary.due_next_hour == 1
    assert summary.delivery_rate == 5 / 25
    assert summary.deliveries_last_hour == {"delivered": 5, "undelivered": 20}
    data = summary.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["scheduler"] == {"last_run": (now - dt.timedelta(minutes=5)).isoformat(),
                                 "age_seconds": 300.0, "stale": True}
    assert "clinical detail" not in json.dumps(data)
    assert describe_problem("no_live_workers", Lang.FR).startswith("Aucun worker")


def test_a_fresh_pass_and_a_live_worker_make_it_healthy(gateway: Gateway) -> None:
    gateway.clock.set(dt.datetime.now(dt.UTC))
    Scheduler(gateway.client, gateway.settings, clock=gateway.clock).run_once()
    gateway.broker.do_qsize(SEND_QUEUE)
    gateway.client.zadd(Keys().schedule("sms"), {"x:reminder:sms": gateway.clock().timestamp()})

    summary = health_summary(gateway.client, gateway.settings, gateway.clock())

    assert summary.healthy and summary.problems == []
    assert summary.warnings == []  # due this instant: the next pass takes it
    assert summary.delivery_rate is None


def test_staleness_allows_three_polls_and_at_least_a_minute() -> None:
    assert stale_after(Settings()) == dt.timedelta(seconds=60)
    assert stale_after(Settings(scheduler_poll="30s")) == dt.timedelta(seconds=90)
