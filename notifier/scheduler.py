"""The scheduler process: hands due messages from the Redis schedule to Dramatiq, and
fans the callback log out to booking systems' endpoints
(:class:`notifier.callbacks.dispatch.CallbackDispatch`).

Each pass claims due entries atomically (a lease, not a removal), then hands the batch to
the ``send`` queue as immediate ``send_message`` messages and acknowledges it in one
script (:class:`notifier.store.handoff.SendHandoff`). Several schedulers may run at once:
a claim is exclusive while its lease lasts. A scheduler killed after claiming loses
nothing: the lease lapses and another pass claims the entries again. An entry is handed
off once: the hand-off takes only entries still claimed, so a scheduler that stalled
past its lease while another handed its entries off enqueues none of them again.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from redis import Redis, RedisError

from notifier.callbacks.dispatch import CallbackDispatch
from notifier.operations.alert_mail import AlertMail, smtp_send
from notifier.settings import Settings
from notifier.store.connect import connect_redis
from notifier.store.handoff import SendHandoff
from notifier.store.integrators import IntegratorStore
from notifier.store.keys import Keys
from notifier.store.schedule import Schedule

log = logging.getLogger(__name__)


class Scheduler:
    """One scheduler.

    Parameters:
      redis: a redis-py client.
      settings: lease, poll interval and key prefix come from here.
      clock: returns the current time.
      batch: how many entries one claim takes at most.
      after_claim: called with the claimed payloads before they are handed off (a hook
        for fault-injection tests).
      handoff: hands claimed payloads to the ``send`` queue; by default a
        :class:`SendHandoff` on ``redis``.
      alerts: emails the on-call address when an alert rule starts firing or clears
        (checked after each pass, at most once a minute); None when none is set.
    """

    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime],
        batch: int = 500,
        after_claim: Callable[[list[str]], None] | None = None,
        handoff: HandOff | None = None,
        alerts: AlertMail | None = None,
    ) -> None:
        self.redis = redis
        self.keys = Keys(settings.queue_prefix)
        self.schedule = Schedule(redis, keys=self.keys, lease=settings.scheduler_lease)
        self.handoff = handoff if handoff is not None else SendHandoff(redis, keys=self.keys)
        self.clock = clock
        self.batch = batch
        self.poll = settings.scheduler_poll
        self.after_claim = after_claim
        self.alerts = alerts
        self.callbacks = CallbackDispatch(
            redis, keys=self.keys, endpoints=IntegratorStore(redis, settings), clock=clock,
            concurrency=settings.callback_concurrency, batch=batch)

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
            handed += self.handoff.hand_off(claimed)
            if len(claimed) < self.batch:
                self.callbacks.run_once()
                self.redis.set(self.keys.scheduler_heartbeat, now.isoformat())
                if self.alerts is not None:
                    self.alerts.check()
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


class HandOff(Protocol):
    """Hands claimed payloads to the ``send`` queue and acknowledges them; returns how many
    it handed off (:class:`SendHandoff`)."""

    def hand_off(self, payloads: Sequence[str]) -> int: ...


def run(settings: Settings) -> int:
    """The ``scheduler`` process: runs until SIGTERM or SIGINT, then finishes its pass."""
    from notifier.clock import utc_now
    from notifier.logs import configure_logging

    configure_logging()
    redis = connect_redis(settings, needed_by="scheduler")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    alerts, close = None, None
    if settings.alert_email:
        send, close = smtp_send(settings)
        alerts = AlertMail(redis, settings, clock=utc_now, send=send)
    try:
        Scheduler(redis, settings, clock=utc_now, alerts=alerts).run(stop)
    finally:
        if close is not None:
            close()
    return 0
