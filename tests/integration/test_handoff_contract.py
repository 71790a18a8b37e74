"""The hand-off writes Dramatiq's Redis layout itself: a real Dramatiq worker on a real
``RedisBroker`` consumes what it wrote, and what it writes is what Dramatiq's own
``enqueue`` writes, ids and time aside. Run it before moving the Dramatiq pin."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from notifier.actors import build_broker
from notifier.domain import Channel, Kind
from notifier.names import SEND_ACTOR, SEND_QUEUE
from notifier.planning.entries import PlannedMessage
from notifier.scheduler import Scheduler
from notifier.settings import Settings
from notifier.store.handoff import SendHandoff
from notifier.store.keys import Keys
from notifier.store.schedule import Schedule

NOW = dt.datetime(2026, 11, 24, 15, tzinfo=dt.UTC)


@pytest.fixture
def settings(redis_url: str, outbox: Path) -> Settings:
    return Settings(redis_url=redis_url, outbox_dir=outbox)


@pytest.fixture
def broker(settings: Settings) -> Iterator[RedisBroker]:
    broker = build_broker(settings)
    yield broker
    broker.close()


def schedule_due(client: redis.Redis, settings: Settings, count: int) -> list[str]:
    """``count`` reminders due now; returns their payloads."""
    schedule = Schedule(client, keys=Keys(settings.queue_prefix),
                        lease=settings.scheduler_lease)
    messages = [
        PlannedMessage(reference=f"{n:010d}", kind=Kind.REMINDER, channel=Channel.SMS,
                       version=1, send_at=NOW - dt.timedelta(seconds=n),
                       deadline=NOW + dt.timedelta(days=1), start=NOW + dt.timedelta(days=1),
                       offset_seconds=86400)
        for n in range(count)
    ]
    with client.pipeline() as pipe:
        for message in messages:
            schedule.stage_changes(pipe, message.reference, upserts=[message], removals=(),
                                   expire_at=NOW + dt.timedelta(days=30))
        pipe.execute()
    return [m.to_json() for m in messages]


def test_a_real_worker_consumes_what_the_hand_off_wrote(
    redis_client: redis.Redis, settings: Settings, broker: RedisBroker
) -> None:
    received: list[dict[str, Any]] = []

    def record(payload: dict[str, Any]) -> None:
        received.append(payload)

    dramatiq.actor(record, broker=broker, actor_name=SEND_ACTOR, queue_name=SEND_QUEUE,
                   max_retries=0)
    payloads = schedule_due(redis_client, settings, 5)

    assert Scheduler(redis_client, settings, clock=lambda: NOW, batch=2).run_once() == 5
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        broker.join(SEND_QUEUE, timeout=30_000)
        worker.join()
    finally:
        worker.stop()

    assert sorted(received, key=json.dumps) == sorted(map(json.loads, payloads),
                                                      key=json.dumps)
    queue = f"{broker.namespace}:{SEND_QUEUE}"
    # Consumed and acknowledged, none dead: nothing of the five is left anywhere.
    assert [redis_client.exists(key) for key in (queue, f"{queue}.msgs", f"{queue}.XQ")] == [
        0, 0, 0]
    assert Schedule(redis_client, keys=Keys(settings.queue_prefix),
                    lease=settings.scheduler_lease).claimed_count() == 0


def test_the_hand_off_writes_what_dramatiqs_enqueue_writes(
    redis_client: redis.Redis, settings: Settings, broker: RedisBroker
) -> None:
    keys = Keys(settings.queue_prefix)
    (payload,) = schedule_due(redis_client, settings, 1)
    Schedule(redis_client, keys=keys, lease=settings.scheduler_lease).claim(NOW)
    queue = f"{broker.namespace}:{SEND_QUEUE}"

    SendHandoff(redis_client, keys=keys).hand_off([payload])
    (ours,) = redis_client.lrange(queue, 0, -1)
    written_by_us = set(redis_client.keys(f"{broker.namespace}:*"))
    assert written_by_us == {queue.encode(), f"{queue}.msgs".encode()}
    # What the scheduler did before: Dramatiq's own enqueue of the same payload.
    theirs = broker.enqueue(dramatiq.Message(
        queue_name=SEND_QUEUE, actor_name=SEND_ACTOR, args=(json.loads(payload),),
        kwargs={}, options={},
    )).options["redis_message_id"]

    heartbeats = f"{broker.namespace}:__heartbeats__".encode()
    assert set(redis_client.keys(f"{broker.namespace}:*")) - {heartbeats} == written_by_us
    assert redis_client.lrange(queue, 0, -1) == [ours, theirs.encode()]
    stored = {k.decode(): dramatiq.Message.decode(v)
              for k, v in redis_client.hgetall(f"{queue}.msgs").items()}
    mine, dramatiqs = stored[ours.decode()], stored[theirs]
    assert mine.options == {"redis_message_id": ours.decode()}
    assert abs(mine.message_timestamp - dramatiqs.message_timestamp) < 60_000
    assert mine.message_id != dramatiqs.message_id
    same_ids = {"message_id": "x", "message_timestamp": 0, "options": {}}
    assert dataclasses.replace(mine, **same_ids) == dataclasses.replace(dramatiqs, **same_ids)
