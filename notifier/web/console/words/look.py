"""Console words for the frame, charts, refreshing pages and forms."""

from __future__ import annotations

from notifier.bilingual import Bilingual

WORDS: dict[str, Bilingual] = {
    # Charts: the numbers behind each drawing, as a table.
    "look.chart.numbers": Bilingual("Voir les chiffres", "Show the numbers"),
    "look.chart.hour": Bilingual("Heure", "Hour"),
    "look.chart.day": Bilingual("Jour", "Day"),
    "look.chart.when": Bilingual("Moment", "Time"),
    # Pages that keep themselves fresh ({n} is filled by the page's script).
    "look.fresh.at": Bilingual("Données lues le {when}", "Read on {when}"),
    "look.fresh.seconds": Bilingual("Mis à jour il y a {n} s", "Updated {n} s ago"),
    "look.fresh.minutes": Bilingual("Mis à jour il y a {n} min", "Updated {n} min ago"),
    "look.fresh.hours": Bilingual("Mis à jour il y a {n} h", "Updated {n} h ago"),
    "look.fresh.toggle": Bilingual("Actualiser toutes les 30 secondes",
                                   "Refresh every 30 seconds"),
    # Table headers that were empty.
    "look.actions": Bilingual("Actions", "Actions"),
    "look.explanation": Bilingual("Explication", "Explanation"),
    "look.breakdown.status": Bilingual("Statut", "Status"),
    "look.breakdown.channel": Bilingual("Mode", "Channel"),
    "look.breakdown.kind": Bilingual("Type de message", "Message type"),
    "look.breakdown.lang": Bilingual("Langue", "Language"),
    "look.breakdown.location": Bilingual("Clinique", "Clinic"),
    "look.field": Bilingual("Champ", "Field"),
    "look.value": Bilingual("Valeur", "Value"),
    # Opting a number back in: only on the patient's word.
    "look.optin.consent": Bilingual(
        "Le patient a demandé à recevoir de nouveau des messages",
        "The patient asked to receive messages again",
    ),
    "look.optin.confirm": Bilingual(
        "Réabonner ce numéro? Le patient recevra de nouveau des messages.",
        "Opt this number back in? The patient will receive messages again.",
    ),
    "look.optin.consent.missing": Bilingual(
        "Un numéro n’est réabonné qu’à la demande du patient : cochez la case qui le "
        "confirme.",
        "A number is opted back in only when the patient asks: tick the box that says so.",
    ),
}
