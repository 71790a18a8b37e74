"""From the callback log to the ``callbacks`` queue, a scheduler's pass at a time.

Fan-out reads the log entries after the cursor, finds the endpoints that want each event
(an active endpoint subscribed to its type, of an integrator acting for its location), and
schedules one delivery per endpoint and event, moving the cursor in the same step: a
scheduler that loses the race to another schedules nothing, so no event is fanned out
twice. Then the deliveries that are due are claimed and handed to the ``callbacks`` queue
(a claim, then one script that enqueues and acknowledges, as for messages).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Protocol

from notifier.callbacks.events import callback_events
from notifier.errors import MalformedLogEntry
from notifier.integrators.model import Endpoint
from notifier.names import CALLBACK_ACTOR, CALLBACK_QUEUE
from notifier.store.callback_deliveries import CallbackDeliveries, delivery_name
from notifier.store.callback_log import CallbackLog, LogEntry
from notifier.store.handoff import QueueHandoff
from notifier.store.keys import Keys
from notifier.store.redis_store import Redis

log = logging.getLogger(__name__)

# How long a claimed delivery waits for its hand-off before another scheduler may take it.
CLAIM_LEASE = dt.timedelta(seconds=30)
# When a delivery whose endpoint had every place in flight taken is looked at again.
FULL_RECHECK = dt.timedelta(seconds=5)


class Endpoints(Protocol):
    def endpoints_for(self, location: str, event_type: str, *,
                      now: dt.datetime | None = None) -> list[Endpoint]: ...


class CallbackDispatch:
    """Fans the callback log out to endpoints and hands due deliveries to the workers.

    Parameters:
      redis: a redis-py client.
      keys: the deployment's key names.
      endpoints: where the endpoints that want an event are found
        (:class:`notifier.store.integrators.IntegratorStore`).
      clock: returns the current time (aware).
      concurrency: the attempts in flight an endpoint may have
        (``NOTIFIER_CALLBACK_CONCURRENCY``): its deliveries stay due while it has them all.
      batch: log entries fanned out, and deliveries handed off, per step.
    """

    def __init__(self, redis: Redis, *, keys: Keys, endpoints: Endpoints,
                 clock: Callable[[], dt.datetime], concurrency: int,
                 batch: int = 500) -> None:
        self.log = CallbackLog(redis, keys=keys)
        self.deliveries = CallbackDeliveries(redis, keys=keys)
        self.handoff = QueueHandoff(redis, keys=keys, claimed=keys.callbacks_claimed,
                                    queue=CALLBACK_QUEUE, actor=CALLBACK_ACTOR)
        self.endpoints = endpoints
        self.clock = clock
        self.concurrency = concurrency
        self.batch = batch

    def run_once(self) -> tuple[int, int]:
        """Fan out every entry written so far, then hand off every delivery due; returns
        how many log entries were fanned out and how many deliveries handed off."""
        fanned = handed = 0
        while (step := self.fan_out()) > 0:
            fanned += step
        while True:
            claimed = self.deliveries.claim(self.clock(), lease=CLAIM_LEASE, limit=self.batch,
                                            most=self.concurrency, recheck=FULL_RECHECK)
            handed += self.handoff.hand_off(claimed)
            if len(claimed) < self.batch:
                return fanned, handed

    def fan_out(self) -> int:
        """One batch of log entries after the cursor become deliveries; returns how many
        entries (0 when none was left, or another scheduler took them)."""
        cursor = self.deliveries.cursor()
        entries = self.log.read(after=cursor, count=self.batch)
        if not entries:
            return 0
        now = self.clock()
        deliveries = self._deliveries(entries, now)
        if not self.deliveries.fan_out(read_cursor=cursor, last=entries[-1].id,
                                       deliveries=deliveries, due=now):
            return 0
        return len(entries)

    def _deliveries(self, entries: list[LogEntry], now: dt.datetime) -> list[str]:
        wanting: dict[tuple[str, str], list[Endpoint]] = {}
        found: list[str] = []
        for entry in entries:
            try:
                events = callback_events(entry)
            except MalformedLogEntry as malformed:
                log.error("callback log entry skipped: %s", malformed)
                continue
            for event in events:
                event_type = str(event["type"])
                for location in entry.locations:
                    if (location, event_type) not in wanting:
                        wanting[location, event_type] = self.endpoints.endpoints_for(
                            location, event_type, now=now)
                    found += (delivery_name(endpoint.id, str(event["id"]))
                              for endpoint in wanting[location, event_type])
        return list(dict.fromkeys(found))

