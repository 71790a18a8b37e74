"""The overview's alerts card: each alert rule firing or fine, since when, what to do.

The rules are :mod:`notifier.operations.alerts`'; when each started firing is what the
scheduler's on-call email recorded (:class:`~notifier.operations.alert_mail.AlertRecords`),
so the card and the email agree on "since".
"""

from __future__ import annotations

from typing import Any

from redis import Redis

from notifier.operations.alert_mail import AlertRecords
from notifier.operations.alerts import evaluate
from notifier.operations.status import HealthSummary
from notifier.store.keys import Keys
from notifier.web.console.i18n import Words


def alerts_card(redis: Redis, health: HealthSummary, words: Words, *,
                prefix: str, scoped: bool) -> dict[str, Any]:
    """The card's values.

    Parameters:
      redis: where the rules' records are (one round trip).
      health: the health summary the overview read.
      words: the operator's language.
      prefix: the queue prefix (the records' keys).
      scoped: the operator sees one clinic: the gateway's pages that the actions point
        to are not theirs, so what they can do is tell whoever runs the gateway.
    """
    recorded = AlertRecords(redis, keys=Keys(prefix)).firing_since()
    rows = []
    for state in evaluate(health, health.checked_at, firing_since=recorded):
        rule = str(state.rule)
        rows.append({
            "rule": rule,
            "name": words(f"alerts.rule.{rule}"),
            "firing": state.firing,
            "state": words("alerts.firing") if state.firing else words("alerts.fine"),
            "since": words("alerts.since", when=words.when(state.since))
            if state.since is not None else "",
            "action": "" if not state.firing else words("alerts.action.scoped") if scoped
            else words(f"alerts.action.{rule}"),
        })
    firing = sum(1 for row in rows if row["firing"])
    return {"rows": rows, "tone": "error" if firing else "ok",
            "summary": words("alerts.summary.firing", count=words.number(firing))
            if firing else words("alerts.summary.fine")}
