"""The gateway's health at a glance: one summary for the console, ``notifier status``
and ``/readyz``.

Problems make the gateway unhealthy (messages stop going out): the scheduler has not
finished a pass recently, no worker is alive, or fewer Redis replicas than an
acknowledged write needs confirm one. Warnings call for a look but messages
still flow: dead letters, a low delivery rate, overdue schedule entries, callbacks
late, given up or held back by a suspended endpoint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from notifier.bilingual import Bilingual
from notifier.domain import Lang
from notifier.integrators.model import EndpointState
from notifier.operations.callbacks import CallbackSummary, callback_summary
from notifier.operations.delivery_stats import delivery_counts
from notifier.operations.queues import (
    QueueDepth,
    live_workers,
    queue_depths,
    scheduler_last_run,
)
from notifier.operations.redis_topology import RedisTopology, redis_topology
from notifier.operations.schedule_ahead import due_within, overdue, schedule_size
from notifier.operations.times import iso, require_aware
from notifier.settings import Settings
from notifier.store.contact_health import ContactHealth
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutStore

# A pass that hands off a large batch writes its heartbeat only when it ends: allow a
# minute whatever the poll interval.
MIN_STALE_AFTER = dt.timedelta(seconds=60)
# Below this delivery rate (with enough outcomes to judge), the summary warns.
LOW_DELIVERY_RATE = 0.9
MIN_OUTCOMES_FOR_RATE = 20

_WORDS: dict[str, Bilingual] = {
    "scheduler_never_ran": Bilingual(
        "Aucun planificateur n'a jamais terminé de passage : les rappels ne partent pas.",
        "No scheduler has ever finished a pass: reminders are not being handed out.",
    ),
    "scheduler_stale": Bilingual(
        "Le dernier passage du planificateur date de trop longtemps : les rappels ne partent pas.",
        "The scheduler's last pass is too old: reminders are not being handed out.",
    ),
    "no_live_workers": Bilingual(
        "Aucun worker Dramatiq n’est actif : rien n’est envoyé.",
        "No Dramatiq worker is alive: nothing is being sent.",
    ),
    "dead_letters": Bilingual(
        "Des messages ont échoué définitivement : ils attendent parmi les messages abandonnés.",
        "Some messages failed for good and wait in the dead letters.",
    ),
    "low_delivery_rate": Bilingual(
        "Le taux de livraison de la dernière heure est bas.",
        "The delivery rate over the last hour is low.",
    ),
    "overdue": Bilingual(
        "Des messages sont dus depuis plus d'une minute, mais aucun planificateur ne les a pris.",
        "Messages have been due for over a minute but no scheduler has taken them.",
    ),
    "callbacks_late": Bilingual(
        "Un avis aux systèmes de rendez-vous attend depuis plus de 30 minutes d'être "
        "envoyé : vérifiez que le planificateur tourne.",
        "A callback to a booking system has been due for over 30 minutes: check that the "
        "scheduler is running.",
    ),
    "callbacks_dead": Bilingual(
        "Des avis aux systèmes de rendez-vous ont été abandonnés : renvoyez-les avec "
        "« notifier integrators recover » une fois le point de réception réparé.",
        "Some callbacks to booking systems were given up: send them again with "
        "'notifier integrators recover' once the endpoint is fixed.",
    ),
    "replicas_unconfirmed": Bilingual(
        "Moins de réplicas Redis que requis confirment les écritures : les événements, les "
        "désabonnements et les envois sont refusés (503, nouvel essai) jusqu'à ce qu'ils "
        "le fassent. Vérifiez les réplicas et leur lien avec le primaire, ou abaissez "
        "NOTIFIER_REDIS_WAIT_REPLICAS.",
        "Fewer Redis replicas than required confirm writes: events, opt-outs and sends are "
        "refused (503, retried) until they do. Check the replicas and their link to the "
        "primary, or lower NOTIFIER_REDIS_WAIT_REPLICAS.",
    ),
    "endpoints_suspended": Bilingual(
        "Un point de réception d'intégrateur est suspendu (il échouait depuis des jours) : "
        "« notifier integrators endpoint test » le réactive s'il répond.",
        "An integrator's endpoint is suspended (it failed for days): "
        "'notifier integrators endpoint test' makes it active again once it answers.",
    ),
}


def describe_problem(code: str, lang: Lang) -> str:
    """The sentence for a problem or warning code, in ``lang``."""
    words = _WORDS.get(code)
    if words is None:
        return code
    return words[lang]


def stale_after(settings: Settings) -> dt.timedelta:
    """How old the scheduler's last pass may be before it counts as stopped: three poll
    intervals, and at least a minute."""
    return max(3 * settings.scheduler_poll, MIN_STALE_AFTER)


@dataclass(frozen=True)
class HealthSummary:
    """The gateway's state at ``checked_at``.

    Parameters:
      checked_at: when it was read (aware UTC).
      queues: each Dramatiq queue's depth.
      live_workers: Dramatiq processes seen within the heartbeat timeout.
      scheduler_last_run: the end of the scheduler's last pass, None if never.
      scheduler_stale: True when that is older than :func:`stale_after` (or never).
      schedule_size: messages waiting in the schedule, per channel.
      due_next_hour: messages due within the next hour (overdue ones included).
      overdue: messages due now that no scheduler has taken.
      deliveries_last_hour: how many reached each status in the last hour.
      delivery_rate: the delivery rate over the last hour (None with no outcome).
      fallback_redundant_last_hour: messages delivered late in the last hour, after
        their fallback was sent (not a status: in no count of ``deliveries_last_hour``).
      dead_letters: dead letters across the queues.
      opt_outs: numbers opted out per channel, and ``audit``: opt-out changes recorded.
      callbacks: the callbacks to booking systems.
      problems: codes of what stops messages (see :func:`describe_problem`).
      warnings: codes of what needs a look.
      undeliverable_contacts: per clinic, the addresses known undeliverable (the
        contact-health registry; none listed when none is).
      redis: the Redis primary and its replicas (None when not read).
    """

    checked_at: dt.datetime
    queues: list[QueueDepth]
    live_workers: int
    scheduler_last_run: dt.datetime | None
    scheduler_stale: bool
    schedule_size: dict[str, int]
    due_next_hour: int
    overdue: int
    deliveries_last_hour: dict[str, int]
    delivery_rate: float | None
    dead_letters: int
    opt_outs: dict[str, int]
    callbacks: CallbackSummary
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    undeliverable_contacts: dict[str, int] = field(default_factory=dict)
    fallback_redundant_last_hour: int = 0
    redis: RedisTopology | None = None

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def scheduler_age(self) -> dt.timedelta | None:
        if self.scheduler_last_run is None:
            return None
        return self.checked_at - self.scheduler_last_run

    def to_dict(self) -> dict[str, Any]:
        age = self.scheduler_age
        return {
            "healthy": self.healthy,
            "checked_at": iso(self.checked_at),
            "queues": [q.to_dict() for q in self.queues],
            "live_workers": self.live_workers,
            "scheduler": {
                "last_run": iso(self.scheduler_last_run),
                "age_seconds": None if age is None else round(age.total_seconds(), 3),
                "stale": self.scheduler_stale,
            },
            "schedule": {"size": self.schedule_size, "due_next_hour": self.due_next_hour,
                         "overdue": self.overdue},
            "deliveries_last_hour": {"by_status": self.deliveries_last_hour,
                                     "delivery_rate": self.delivery_rate,
                                     "fallback_redundant": self.fallback_redundant_last_hour},
            "dead_letters": self.dead_letters,
            "opt_outs": self.opt_outs,
            "callbacks": self.callbacks.to_dict(),
            "problems": self.problems,
            "warnings": self.warnings,
            "undeliverable_contacts": self.undeliverable_contacts,
            "redis": None if self.redis is None else self.redis.to_dict(),
        }


def health_summary(redis: Redis, settings: Settings, now: dt.datetime) -> HealthSummary:
    """Read the summary (about twenty round trips, each O(1) or O(log n)).

    Raises:
      redis.RedisError: when Redis does not answer.
    """
    now = require_aware(now)
    queues = queue_depths(redis, settings)
    workers = live_workers(redis, settings, now)
    last_run = scheduler_last_run(redis, settings)
    stale = last_run is None or now - last_run > stale_after(settings)
    sizes = schedule_size(redis, settings)
    late = overdue(redis, settings, now)
    counts = delivery_counts(redis, settings, now, "hour")
    dead = sum(q.dead for q in queues)
    callbacks = callback_summary(redis, settings, now)
    topology = redis_topology(redis, settings)

    problems = []
    if topology.short:
        problems.append("replicas_unconfirmed")
    if last_run is None:
        problems.append("scheduler_never_ran")
    elif stale:
        problems.append("scheduler_stale")
    if workers == 0:
        problems.append("no_live_workers")
    warnings = []
    if dead:
        warnings.append("dead_letters")
    ended = sum(counts.by_status.get(s, 0) for s in ("delivered", "undelivered", "failed"))
    if (counts.delivery_rate is not None and counts.delivery_rate < LOW_DELIVERY_RATE
            and ended >= MIN_OUTCOMES_FOR_RATE):
        warnings.append("low_delivery_rate")
    # Entries overdue for a moment are normal (the next pass takes them); overdue for
    # longer than a scheduler may be silent, while it reports passes, they need a look.
    if late and not stale and due_within(redis, settings, now, -stale_after(settings)):
        warnings.append("overdue")
    if callbacks.late:
        warnings.append("callbacks_late")
    if callbacks.dead:
        warnings.append("callbacks_dead")
    if callbacks.endpoints[EndpointState.SUSPENDED]:
        warnings.append("endpoints_suspended")
    return HealthSummary(
        checked_at=now,
        queues=queues,
        live_workers=workers,
        scheduler_last_run=last_run,
        scheduler_stale=stale,
        schedule_size={str(c): n for c, n in sizes.items()},
        due_next_hour=due_within(redis, settings, now, dt.timedelta(hours=1)),
        overdue=late,
        deliveries_last_hour=counts.by_status,
        delivery_rate=counts.delivery_rate,
        dead_letters=dead,
        opt_outs=OptOutStore(redis, settings).counts(),
        callbacks=callbacks,
        problems=problems,
        warnings=warnings,
        undeliverable_contacts=ContactHealth(redis, keys=Keys(settings.queue_prefix))
        .by_location(now),
        fallback_redundant_last_hour=sum(counts.fallback_redundant.values()),
        redis=topology,
    )
