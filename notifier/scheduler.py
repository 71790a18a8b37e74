"""The scheduler process: hands due messages from the Redis schedule to Dramatiq.

Each pass claims due entries atomically (a lease, not a removal), enqueues each one as an
immediate ``send_message`` message, then acknowledges them. Several schedulers may run
at once: a claim is exclusive while its lease lasts. A scheduler killed after claiming
loses nothing: the lease lapses and another pass claims the entries again. One killed
after enqueueing but before acknowledging may hand an entry off twice; the send step
sends each key once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import threading
from collections.abc import Callable
from typing import Protocol

import dramatiq
from redis import Redis, RedisError

from notifier.names import SEND_ACTOR, SEND_QUEUE
from notifier.settings import Settings
from notifier.store.keys import Keys
from notifier.store.schedule import Schedule

log = logging.getLogger(__name__)


class Scheduler:
    """One scheduler.

    Parameters:
      redis: a redis-py client.
      settings: lease and poll interval come from here.
      send: the ``send_message`` actor; entries are enqueued with ``send.send(payload)``.
      clock: returns the current time.
      batch: how many entries one claim takes at most.
      after_claim: called with the claimed payloads before they are enqueued (a hook for
        fault-injection tests).
    """

    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        *,
        send: Enqueue,
        clock: Callable[[], dt.datetime],
        batch: int = 500,
        after_claim: Callable[[list[str]], None] | None = None,
    ) -> None:
        self.redis = redis
        self.keys = Keys(settings.queue_prefix)
        self.schedule = Schedule(redis, keys=self.keys, lease=settings.scheduler_lease)
        self.send = send
        self.clock = clock
        self.batch = batch
        self.poll = settings.scheduler_poll
        self.after_claim = after_claim

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Hand off everything due now, one batch at a time, until nothing is due or
        ``stop`` is set; returns how many entries were handed off."""
        handed = 0
        while True:
            now = self.clock()
            if stop is not None and stop.is_set():
                # What is left stays in the schedule for the next scheduler to take.
                return handed
            claimed = self.schedule.claim(now, limit=self.batch)
            if self.after_claim is not None:
                self.after_claim(claimed)
            for payload in claimed:
                self.send.send(_as_dict(payload))
            self.schedule.ack(claimed)
            handed += len(claimed)
            if len(claimed) < self.batch:
                self.redis.set(self.keys.scheduler_heartbeat, now.isoformat())
                return handed

    def run(self, stop: threading.Event) -> None:
        """Run passes until ``stop`` is set; a Redis outage is logged and retried."""
        log.info("scheduler started (poll every %.1fs)", self.poll.total_seconds())
        while not stop.is_set():
            try:
                handed = self.run_once(stop)
                if handed:
                    log.info("handed %d due message(s) to the workers", handed)
            except RedisError as exc:
                log.warning("Redis unavailable (%s); retrying", type(exc).__name__)
            stop.wait(self.wait_seconds())
        log.info("scheduler stopped")

    def wait_seconds(self) -> float:
        """Sleep until the next entry is due, but no longer than one poll interval."""
        poll = self.poll.total_seconds()
        try:
            upcoming = self.schedule.next_due()
        except RedisError:
            return poll
        if upcoming is None:
            return poll
        return max(0.0, min(poll, (upcoming - self.clock()).total_seconds()))


class Enqueue(Protocol):
    """Hands one payload to the ``send_message`` actor (the actor itself has ``send``)."""

    def send(self, payload: dict[str, object]) -> object: ...


class SendQueue:
    """Enqueues ``send_message`` messages on a broker without declaring the actors, so a
    scheduler process builds no channel clients (Twilio session, SMTP pool) it never uses.

    Parameters:
      broker: the gateway's broker.
    """

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    def send(self, payload: dict[str, object]) -> object:
        return self.broker.enqueue(dramatiq.Message(
            queue_name=SEND_QUEUE, actor_name=SEND_ACTOR, args=(payload,), kwargs={},
            options={},
        ))


def _as_dict(payload: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(payload)
    return data


def run(settings: Settings) -> int:
    """The ``scheduler`` process: runs until SIGTERM or SIGINT, then finishes its pass."""
    from notifier.actors import build_broker
    from notifier.clock import utc_now
    from notifier.logs import configure_logging

    configure_logging()
    redis = Redis.from_url(settings.require_redis_url("scheduler"))
    broker = build_broker(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    Scheduler(redis, settings, send=SendQueue(broker), clock=utc_now).run(stop)
    broker.close()
    return 0
