"""The alert rules a clinic manager sees, evaluated on the health summary.

The same four conditions as ``config/prometheus-alerts.yml`` names (dead letters, a
stale scheduler, no live worker, a falling delivery rate), read from one
:class:`~notifier.operations.status.HealthSummary` so that the console, the on-call
email and ``notifier status`` agree. Evaluation is pure: it takes the summary, ``now``
and when each rule was last seen to start firing (kept in Redis by
:mod:`notifier.operations.alert_mail`), and says each rule's state.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass

from notifier.bilingual import Bilingual
from notifier.operations.status import HealthSummary


class Rule(enum.StrEnum):
    """One alert rule (its value names its words and its Redis key)."""

    DEAD_LETTERS = "dead_letters"
    SCHEDULER_STALE = "scheduler_stale"
    NO_LIVE_WORKERS = "no_live_workers"
    DELIVERY_RATE_FALLING = "delivery_rate_falling"


RULES: tuple[Rule, ...] = tuple(Rule)


@dataclass(frozen=True)
class RuleWords:
    """What a person reads of one rule: its name, and what to do while it fires."""

    name: Bilingual
    action: Bilingual


# Read by the console's card and the on-call email alike.
RULE_WORDS: dict[Rule, RuleWords] = {
    Rule.DEAD_LETTERS: RuleWords(
        Bilingual("Messages abandonnés", "Dead letters"),
        Bilingual("Ouvrez la page des messages abandonnés : lisez la raison de chacun, "
                  "puis remettez-le en file ou jetez-le.",
                  "Open the dead letters page: read why each one failed, then requeue "
                  "or discard it."),
    ),
    Rule.SCHEDULER_STALE: RuleWords(
        Bilingual("Planificateur arrêté", "Scheduler stopped"),
        Bilingual("Les rappels ne partent plus : demandez à l’équipe technique de "
                  "redémarrer le processus « scheduler ».",
                  "Reminders are not going out: ask the technical team to restart the "
                  "scheduler process."),
    ),
    Rule.NO_LIVE_WORKERS: RuleWords(
        Bilingual("Aucun processus d’envoi actif", "No live workers"),
        Bilingual("Rien n’est envoyé : demandez à l’équipe technique de redémarrer les "
                  "processus d’envoi (workers).",
                  "Nothing is being sent: ask the technical team to restart the workers."),
    ),
    Rule.DELIVERY_RATE_FALLING: RuleWords(
        Bilingual("Taux de livraison en baisse", "Delivery rate falling"),
        Bilingual("Regardez les raisons des échecs sur la vue d’ensemble ; si la plupart "
                  "viennent du fournisseur, vérifiez le compte et ses identifiants.",
                  "Look at the failure reasons on the overview; if most come from the "
                  "provider, check the account and its credentials."),
    ),
}


@dataclass(frozen=True)
class RuleState:
    """Where one rule stands.

    Parameters:
      rule: which rule.
      firing: True when its condition holds now.
      since: when it started firing, when that can be told (None otherwise, and when
        fine).
    """

    rule: Rule
    firing: bool
    since: dt.datetime | None = None


def _fires(rule: Rule, health: HealthSummary) -> bool:
    if rule is Rule.DEAD_LETTERS:
        return health.dead_letters > 0
    if rule is Rule.SCHEDULER_STALE:
        return health.scheduler_stale
    if rule is Rule.NO_LIVE_WORKERS:
        return health.live_workers == 0
    return "low_delivery_rate" in health.warnings


def evaluate(health: HealthSummary, now: dt.datetime, *,
             firing_since: Mapping[Rule, dt.datetime] | None = None) -> list[RuleState]:
    """Each rule's state, in :data:`RULES` order.

    Parameters:
      health: the gateway's health summary.
      now: the time of the evaluation (a start later than it is not believed).
      firing_since: when each rule was recorded as starting to fire (rules recorded as
        fine are absent); a stale scheduler's start is its last pass when none is
        recorded.
    """
    recorded = firing_since or {}
    states = []
    for rule in RULES:
        firing = _fires(rule, health)
        since = recorded.get(rule) if firing else None
        if firing and since is None and rule is Rule.SCHEDULER_STALE:
            since = health.scheduler_last_run
        if since is not None and since > now:
            since = None
        states.append(RuleState(rule, firing, since))
    return states


def changes(states: list[RuleState], recorded: Mapping[Rule, dt.datetime]) -> list[RuleState]:
    """The states that differ from what is recorded (firing vs. fine): the ones to tell.

    Parameters:
      states: :func:`evaluate`'s answer.
      recorded: the rules recorded as firing, with since when.
    """
    return [state for state in states if state.firing != (state.rule in recorded)]
