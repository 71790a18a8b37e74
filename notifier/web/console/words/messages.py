"""Console words for the Messages page, its search and its export."""

from __future__ import annotations

from notifier.bilingual import Bilingual

WORDS: dict[str, Bilingual] = {
    "messages.nav": Bilingual("Messages", "Messages"),
    "messages.title": Bilingual("Messages", "Messages"),
    "messages.help": Bilingual(
        "Chaque message planifié, envoyé ou non, du plus récent au plus ancien : filtrez par "
        "état, raison, mode, type, clinique ou période, puis ouvrez l’historique du "
        "rendez-vous. Les adresses restent masquées.",
        "Every message planned, sent or not, newest first: filter by status, reason, "
        "channel, kind, clinic or period, then open the appointment’s story. Addresses stay "
        "masked.",
    ),
    "messages.filters": Bilingual("Filtres", "Filters"),
    "messages.status": Bilingual("État", "Status"),
    "messages.reason": Bilingual("Raison", "Reason"),
    "messages.channel": Bilingual("Mode", "Channel"),
    "messages.kind": Bilingual("Type", "Kind"),
    "messages.clinic": Bilingual("Clinique", "Clinic"),
    "messages.from": Bilingual("Du", "From"),
    "messages.to": Bilingual("Au", "To"),
    "messages.any": Bilingual("Indifférent", "Any"),
    "messages.apply": Bilingual("Filtrer", "Filter"),
    "messages.export": Bilingual("Exporter en CSV", "Export as CSV"),
    "messages.search": Bilingual("Chercher un patient", "Find a patient"),
    "messages.search.help": Bilingual(
        "Tapez le numéro de téléphone ou le courriel au complet; il n’est ni gardé ni "
        "affiché en clair.",
        "Type the full phone number or email; it is neither kept nor shown in clear.",
    ),
    "messages.search.address": Bilingual("Téléphone ou courriel", "Phone or email"),
    "messages.search.submit": Bilingual("Chercher", "Search"),
    "messages.search.reference": Bilingual("Numéro de rendez-vous", "Appointment reference"),
    "messages.search.open": Bilingual("Ouvrir", "Open"),
    "messages.search.bad_address": Bilingual(
        "Ce n’est ni un numéro de téléphone valide ni une adresse courriel : vérifiez-le et "
        "tapez-le au complet.",
        "This is neither a valid phone number nor an email address: check it and type it in "
        "full.",
    ),
    "messages.search.results": Bilingual("Messages destinés à {masked}",
                                         "Messages to {masked}"),
    "messages.bad_date": Bilingual(
        "Une date de la période n’est pas valide : utilisez AAAA-MM-JJ.",
        "A date of the period is not valid: use YYYY-MM-DD.",
    ),
    "messages.bad_filter": Bilingual(
        "Un filtre n’est pas valide; il a été ignoré.",
        "A filter is not valid; it was ignored.",
    ),
    "messages.col.time": Bilingual("Moment (heure de {zone})", "Time ({zone} time)"),
    "messages.col.clinic": Bilingual("Clinique", "Clinic"),
    "messages.col.reference": Bilingual("Rendez-vous", "Appointment"),
    "messages.col.kind": Bilingual("Type", "Kind"),
    "messages.col.channel": Bilingual("Mode", "Channel"),
    "messages.col.address": Bilingual("Adresse (masquée)", "Address (masked)"),
    "messages.col.status": Bilingual("État", "Status"),
    "messages.col.reason": Bilingual("Raison", "Reason"),
    "messages.col.next": Bilingual("Que faire", "What to do"),
    "messages.none": Bilingual("Aucun message ne correspond.", "No message matches."),
    "messages.next_page": Bilingual("Page suivante", "Next page"),
    "messages.first_page": Bilingual("Première page", "First page"),
    "messages.short_page": Bilingual(
        "Moins de résultats sur cette page : la page suivante poursuit la recherche.",
        "This page looked through its share of messages without finding enough; the next "
        "page goes on looking.",
    ),
    "messages.capped": Bilingual(
        "Exportation limitée aux {count} premiers messages : resserrez les filtres pour "
        "obtenir le reste.",
        "Export limited to the first {count} messages: narrow the filters to get the rest.",
    ),
}
