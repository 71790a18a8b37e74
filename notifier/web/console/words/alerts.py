"""Console words for alerts, outcome figures and exports."""

from __future__ import annotations

from notifier.bilingual import Bilingual
from notifier.operations.alerts import RULE_WORDS

WORDS: dict[str, Bilingual] = {
    "alerts.title": Bilingual("Alertes", "Alerts"),
    "alerts.firing": Bilingual("En alerte", "Firing"),
    "alerts.fine": Bilingual("Normal", "Fine"),
    "alerts.since": Bilingual("depuis le {when}", "since {when}"),
    "alerts.summary.fine": Bilingual("Aucune alerte : tout va bien.",
                                     "No alert: all is well."),
    "alerts.summary.firing": Bilingual("Alertes en cours : {count}", "Alerts firing: {count}"),
    "alerts.help": Bilingual(
        "Les mêmes règles que la surveillance Prometheus ; l’adresse de garde, si elle est "
        "configurée, reçoit un courriel quand une alerte commence et quand elle cesse.",
        "The same rules as the Prometheus monitoring; the on-call address, when one is "
        "set, gets an email when an alert starts and when it clears.",
    ),
    "export.time": Bilingual("moment (UTC)", "time (UTC)"),
    "export.channel": Bilingual("canal", "channel"),
    "export.change": Bilingual("changement", "change"),
    "export.source": Bilingual("source", "source"),
    "export.number": Bilingual("numéro (masqué)", "number (masked)"),
    "export.optouts.link": Bilingual("Télécharger les changements (CSV)",
                                     "Download the changes (CSV)"),
    "export.optouts.help": Bilingual(
        "Chaque désabonnement et réabonnement conservé, numéros masqués.",
        "Every opt-out and opt-in kept, numbers masked.",
    ),
    **{f"alerts.rule.{rule}": words.name for rule, words in RULE_WORDS.items()},
    **{f"alerts.action.{rule}": words.action for rule, words in RULE_WORDS.items()},
}
