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
    "alerts.action.scoped": Bilingual(
        "Les messages de votre clinique peuvent être retardés : si l’alerte dure, "
        "prévenez l’équipe qui exploite la passerelle.",
        "Your clinic's messages may be delayed: if the alert lasts, tell the team that "
        "runs the gateway.",
    ),
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
    "outcomes.nav": Bilingual("Résultats", "Outcomes"),
    "outcomes.title": Bilingual("Résultats par clinique", "Outcomes by clinic"),
    "outcomes.help": Bilingual(
        "Par clinique et par mois (les six derniers) : messages livrés par canal, "
        "désabonnements, et absences selon que le patient a reçu un rappel ou non.",
        "Per clinic and month (the last six): messages delivered by channel, opt-outs, "
        "and no-shows by whether a reminder reached the patient.",
    ),
    "outcomes.caution": Bilingual(
        "Ces chiffres montrent des associations, pas des effets : les patients que les "
        "rappels joignent peuvent différer des autres à bien des égards (coordonnées à "
        "jour, type de rendez-vous, habitudes), ce qui peut expliquer à lui seul un écart "
        "d’absences.",
        "These figures show associations, not effects: patients whom reminders reach may "
        "differ from the others in many ways (up-to-date contact details, kind of "
        "appointment, habits), which alone may explain a gap in no-shows.",
    ),
    "outcomes.month": Bilingual("Mois", "Month"),
    "outcomes.delivered": Bilingual("Taux de livraison", "Delivery rate"),
    "outcomes.opt_outs": Bilingual("Désabonnements", "Opt-outs"),
    "outcomes.no_show": Bilingual("Taux d’absence", "No-show rate"),
    "outcomes.reached": Bilingual("rappel reçu", "reminder reached"),
    "outcomes.unreached": Bilingual("sans rappel reçu", "no reminder reached"),
    "outcomes.of": Bilingual("{part} sur {whole}", "{part} of {whole}"),
    "outcomes.small": Bilingual("< {limit}", "< {limit}"),
    "outcomes.more": Bilingual("> {limit}", "> {limit}"),
    "outcomes.none": Bilingual("Rien n’a encore été compté pour ces mois.",
                               "Nothing has been counted for these months yet."),
    "outcomes.how.title": Bilingual("Comment ces chiffres sont comptés",
                                    "How these figures are counted"),
    "outcomes.how.delivered": Bilingual(
        "Taux de livraison : messages livrés (par courriel : remis au serveur de courriel) "
        "sur ceux qui ont abouti ou échoué, dans le mois (UTC) où c’est arrivé.",
        "Delivery rate: messages delivered (by email: handed to the mail server) of those "
        "that were delivered or failed, in the month (UTC) it happened.",
    ),
    "outcomes.how.opt_outs": Bilingual(
        "Désabonnements : numéros auxquels la clinique a écrit qui se sont désabonnés, sur "
        "les textos et appels qu’elle a livrés dans le mois.",
        "Opt-outs: numbers the clinic wrote to that opted out, of the texts and calls it "
        "delivered that month.",
    ),
    "outcomes.how.no_show": Bilingual(
        "Taux d’absence : rendez-vous manqués sur ceux dont la présence est connue, selon "
        "le mois du rendez-vous ; « rappel reçu » veut dire qu’un rappel a été livré (par "
        "courriel : envoyé) avant que la présence soit indiquée.",
        "No-show rate: appointments missed of those whose attendance is known, by the "
        "appointment’s month; “reminder reached” means a reminder was delivered (by email: "
        "sent) before attendance was set.",
    ),
    "outcomes.how.small": Bilingual(
        "Les nombres de 1 à 4 sont affichés « < {limit} » (et un nombre à moins de {limit} "
        "du total, « > » le total moins {limit}) ; aucun taux n’est montré quand il "
        "permettrait de retrouver un tel nombre.",
        "Counts from 1 to 4 read “< {limit}” (and a count within {limit} of the total, "
        "“>” the total less {limit}); no rate is shown where it would give such a count "
        "away.",
    ),
    **{f"alerts.rule.{rule}": words.name for rule, words in RULE_WORDS.items()},
    **{f"alerts.action.{rule}": words.action for rule, words in RULE_WORDS.items()},
}
