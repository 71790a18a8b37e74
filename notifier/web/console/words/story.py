"""Console words for an appointment's story, what the patient received, usage, and dead letters."""

from __future__ import annotations

from notifier.bilingual import Bilingual

WORDS: dict[str, Bilingual] = {
    # Usage.
    "usage.nav": Bilingual("Consommation", "Usage"),
    "usage.title": Bilingual("Consommation par clinique et par jour", "Usage per clinic and day"),
    "usage.help": Bilingual(
        "Ce que chaque clinique a remis aux fournisseurs : segments de texto (ce que les "
        "opérateurs facturent), appels et courriels. Jours du calendrier à l’heure de "
        "{zone}.",
        "What each clinic handed to the providers: SMS segments (what carriers bill), calls "
        "and emails. Calendar days in the {zone} time zone.",
    ),
    "usage.period": Bilingual("Période", "Period"),
    "usage.days": Bilingual("{count} jour(s)", "{count} day(s)"),
    "usage.csv": Bilingual("Exporter en CSV", "Export as CSV"),
    "usage.day": Bilingual("Jour (heure de {zone})", "Day ({zone} time)"),
    "usage.clinic": Bilingual("Clinique", "Clinic"),
    "usage.sms_segments": Bilingual("Segments de texto", "SMS segments"),
    "usage.calls": Bilingual("Appels", "Calls"),
    "usage.emails": Bilingual("Courriels", "Emails"),
    "usage.total": Bilingual("Total", "Total"),
    "usage.none": Bilingual(
        "Rien de remis aux fournisseurs pendant cette période.",
        "Nothing handed to the providers in this period.",
    ),
}
