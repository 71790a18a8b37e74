"""Console words for clinics and their times."""

from __future__ import annotations

from notifier.bilingual import Bilingual

WORDS: dict[str, Bilingual] = {
    "places.scope": Bilingual("{clinic} seulement", "{clinic} only"),
    "places.chart_zone": Bilingual(
        "Heures de {city} ({zone}).",
        "Times are {city} time ({zone}).",
    ),
    # A send key told as an operator reads it.
    "places.key.before.days": Bilingual("{count} j avant", "{count} d before"),
    "places.key.before.hours": Bilingual("{count} h avant", "{count} h before"),
    "places.key.before.minutes": Bilingual("{count} min avant", "{count} min before"),
    "places.key.version": Bilingual("version {version}", "version {version}"),
    "places.key.start": Bilingual("rendez-vous du {when}", "appointment of {when}"),
    "places.key.route.fallback": Bilingual("message de repli", "fallback"),
    "places.key.route.retry": Bilingual("nouvel essai", "retry"),
    "places.key.raw": Bilingual("Clé d’envoi telle quelle", "Send key as stored"),
    # The overview's choice of clinic.
    "places.filter": Bilingual("Clinique", "Clinic"),
    "places.filter.all": Bilingual("Toutes les cliniques", "Every clinic"),
    "places.filter.submit": Bilingual("Afficher", "Show"),
    "places.filter.showing": Bilingual(
        "Envois de {clinic} seulement.",
        "Deliveries of {clinic} only.",
    ),
    # A clinic-scoped operator's overview.
    "places.ahead.title": Bilingual("À venir pour {clinic}", "Coming up for {clinic}"),
    "places.ahead.day": Bilingual("Prochaines 24 heures", "Next 24 hours"),
    "places.ahead.week": Bilingual("Prochains 7 jours", "Next 7 days"),
    "places.ahead.at_least": Bilingual(
        "Au moins ce nombre\u00a0: trop de messages sont prévus pour tous les compter.",
        "At least this many: the schedule holds too many messages to read them all.",
    ),
    "places.health.ok": Bilingual(
        "Tout est envoyé normalement.",
        "Everything is being sent normally.",
    ),
    "places.health.failures": Bilingual(
        "Envois en échec dans la dernière heure\u00a0: {count}.",
        "Failed deliveries in the last hour: {count}.",
    ),
    "places.health.undeliverable": Bilingual(
        "Coordonnées injoignables à corriger\u00a0: {count}.",
        "Undeliverable contacts to fix: {count}.",
    ),
}
