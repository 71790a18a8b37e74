"""Callbacks to booking systems at a glance, for ``notifier status``, ``/metrics``, the
console and ``notifier integrators``: what waits, what was given up, and how each
endpoint answers.

Nothing here names a patient: deliveries are counted, endpoints named by id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from redis import Redis

from notifier.integrators.model import Endpoint, EndpointState, Integrator
from notifier.operations.times import iso, require_aware
from notifier.settings import Settings
from notifier.store.callback_deliveries import CallbackDeliveries, EndpointHealth
from notifier.store.integrators import IntegratorStore
from notifier.store.keys import Keys

# A due callback the scheduler has not handed out after this long calls for a look (the
# scheduler hands due ones out at every pass).
LATE_AFTER = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class CallbackSummary:
    """The callbacks' state at ``checked_at``.

    Parameters:
      checked_at: when it was read (aware UTC).
      waiting: deliveries on the schedule (due now, or later for a retry).
      oldest_due: when the longest-due delivery not yet handed out fell due (None when
        none is due).
      dead: deliveries given up (or kept while their endpoint is suspended), waiting for
        ``notifier integrators recover``.
      endpoints: how many endpoints are in each :class:`EndpointState`.
      delivered: callbacks the endpoints took, summed over them.
      failed: attempts the endpoints failed, summed over them.
    """

    checked_at: dt.datetime
    waiting: int
    oldest_due: dt.datetime | None
    dead: int
    endpoints: dict[str, int]
    delivered: int
    failed: int

    @property
    def oldest_due_age(self) -> dt.timedelta | None:
        if self.oldest_due is None:
            return None
        return max(dt.timedelta(0), self.checked_at - self.oldest_due)

    @property
    def late(self) -> bool:
        """A due callback has waited longer than :data:`LATE_AFTER`."""
        age = self.oldest_due_age
        return age is not None and age > LATE_AFTER

    def to_dict(self) -> dict[str, Any]:
        age = self.oldest_due_age
        return {
            "waiting": self.waiting,
            "oldest_due_at": iso(self.oldest_due),
            "oldest_due_age_seconds": None if age is None else round(age.total_seconds(), 3),
            "dead": self.dead,
            "endpoints": self.endpoints,
            "delivered": self.delivered,
            "failed": self.failed,
        }


def callback_summary(redis: Redis, settings: Settings, now: dt.datetime) -> CallbackSummary:
    """Read the summary (six round trips, each O(1), O(log n) or one per endpoint).

    Raises:
      redis.RedisError: when Redis does not answer.
    """
    now = require_aware(now)
    deliveries = CallbackDeliveries(redis, keys=Keys(settings.queue_prefix))
    waiting, oldest = deliveries.backlog(now)
    endpoints = IntegratorStore(redis, settings).all_endpoints(now=now)
    healths = deliveries.healths(endpoint.id for endpoint in endpoints).values()
    states = {str(state): 0 for state in EndpointState}
    for endpoint in endpoints:
        states[str(endpoint.state)] += 1
    return CallbackSummary(
        checked_at=now, waiting=waiting, oldest_due=oldest, dead=deliveries.dead_count(),
        endpoints=states, delivered=sum(h.delivered for h in healths),
        failed=sum(h.failed for h in healths),
    )


@dataclass(frozen=True)
class EndpointReport:
    """One endpoint, how it answers and what waits for it.

    Parameters:
      endpoint: the endpoint.
      health: its recent answers.
      waiting: its deliveries on the schedule.
      dead: its deliveries given up.
      state_reason: why it is in its state (empty when unknown).
      state_since: since when (None when unknown).
    """

    endpoint: Endpoint
    health: EndpointHealth
    waiting: int
    dead: int
    state_reason: str
    state_since: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        health = self.health
        return {
            "state_reason": self.state_reason, "state_since": iso(self.state_since),
            "health": {"delivered": health.delivered, "failed": health.failed,
                       "last_at": health.last_at, "last_answer": health.last_answer,
                       "failing_since": health.failing_since, "busy": health.busy},
            "waiting": self.waiting, "dead": self.dead,
        }


@dataclass(frozen=True)
class IntegratorReport:
    """An integrator and its endpoints' reports, by endpoint id."""

    integrator: Integrator
    endpoints: list[EndpointReport]


def endpoint_reports(
    redis: Redis, settings: Settings, endpoints: list[Endpoint],
) -> tuple[list[EndpointReport], bool]:
    """The reports of ``endpoints``, and whether their counts are complete (see
    :meth:`CallbackDeliveries.per_endpoint`)."""
    deliveries = CallbackDeliveries(redis, keys=Keys(settings.queue_prefix))
    store = IntegratorStore(redis, settings)
    healths = deliveries.healths(endpoint.id for endpoint in endpoints)
    counts = deliveries.per_endpoint()
    reports = []
    for endpoint in endpoints:
        reason, since = store.endpoint_state_reason(endpoint.id)
        reports.append(EndpointReport(
            endpoint=endpoint, health=healths[endpoint.id],
            waiting=counts.waiting.get(endpoint.id, 0), dead=counts.dead.get(endpoint.id, 0),
            state_reason=reason, state_since=since,
        ))
    return reports, counts.complete


def integrator_reports(
    redis: Redis, settings: Settings, now: dt.datetime,
) -> tuple[list[IntegratorReport], bool]:
    """Every integrator, by id, with its endpoints' reports; and whether the counts are
    complete."""
    store = IntegratorStore(redis, settings)
    integrators = store.all()
    endpoints = store.all_endpoints(now=require_aware(now))
    reports, complete = endpoint_reports(redis, settings, endpoints)
    return [
        IntegratorReport(integrator, [r for r in reports
                                      if r.endpoint.integrator == integrator.id])
        for integrator in integrators
    ], complete
