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
    # Dead letters: what a requeue would do, and the next step.
    "dead.failed_at.zone": Bilingual("Abandonné le (heure de {zone})", "Failed ({zone} time)"),
    "dead.when.zone": Bilingual("Quand (heure de {zone})", "When ({zone} time)"),
    "dead.outlook": Bilingual("Si on le remet en file", "If requeued"),
    "dead.outlook.send_now": Bilingual("Il part tout de suite.", "It goes right away."),
    "dead.outlook.send_later": Bilingual(
        "Il partira à l’ouverture des heures d’envoi, le {when}.",
        "It goes when the sending window opens, {when}.",
    ),
    "dead.outlook.held_back": Bilingual(
        "Il ne partira pas : {why}",
        "It will not go: {why}",
    ),
    "dead.outlook.event_again": Bilingual(
        "L’événement est relu par la réception, comme à son arrivée.",
        "The event is read again by intake, as when it arrived.",
    ),
    "dead.outlook.unknown": Bilingual(
        "Impossible de le dire : le contenu du message est illisible.",
        "Cannot tell: the message’s content cannot be read.",
    ),
    "dead.fact.booked": Bilingual("Le rendez-vous est toujours réservé.",
                                  "The appointment is still booked."),
    "dead.fact.cancelled": Bilingual("Le rendez-vous a été annulé.",
                                     "The appointment was cancelled."),
    "dead.fact.not_held": Bilingual("La passerelle ne garde plus ce rendez-vous.",
                                    "The gateway no longer holds this appointment."),
    "dead.fact.start_passed": Bilingual("Son heure de début est passée.",
                                        "Its start time has passed."),
    "dead.fact.start_ahead": Bilingual("Son heure de début est à venir.",
                                       "Its start time is still ahead."),
    "dead.next.story": Bilingual("Voir l’historique du rendez-vous",
                                 "See the appointment’s story"),
    "dead.next.opt_outs": Bilingual("Voir les désabonnements", "See the opt-outs"),
    "dead.pages": Bilingual("Pages", "Pages"),
    "dead.newest": Bilingual("Les plus récents", "Newest"),
    "dead.older": Bilingual("Plus anciens", "Older"),
    "dead.queue.intake": Bilingual("file de réception", "intake queue"),
    "dead.queue.send": Bilingual("file d’envoi", "send queue"),
    "dead.queue.callbacks": Bilingual("file des avis aux intégrateurs",
                                      "integrators’ callbacks queue"),
    "dead.actor.deliver_callback": Bilingual("avis à un système de rendez-vous",
                                             "callback to a booking system"),
    "dead.actor.intake_event": Bilingual("lecture d’un événement", "reading an event"),
    "dead.actor.send_message": Bilingual("envoi d’un message", "sending a message"),
    "dead.actor.send_exhausted": Bilingual("fin des essais d’un envoi",
                                           "end of a send’s retries"),
    "dead.field.queue": Bilingual("File", "Queue"),
    "dead.field.message_id": Bilingual("Identifiant", "Id"),
    "dead.field.actor": Bilingual("Tâche", "Task"),
    "dead.field.failed_at": Bilingual("Abandonné le", "Failed"),
    "dead.field.retries": Bilingual("Nouvelles tentatives", "Retries"),
    "dead.field.reason": Bilingual("Raison", "Reason"),
    "dead.field.delivery_status": Bilingual("État de l’envoi", "Delivery status"),
    "dead.field.dramatiq_message_id": Bilingual("Identifiant Dramatiq", "Dramatiq id"),
    "dead.field.key": Bilingual("Clé d’envoi", "Send key"),
    "dead.field.reference": Bilingual("Référence", "Reference"),
    "dead.field.kind": Bilingual("Type de message", "Message kind"),
    "dead.field.channel": Bilingual("Mode", "Channel"),
    "dead.field.event_id": Bilingual("Identifiant de l’événement", "Event id"),
    "dead.field.type": Bilingual("Type d’événement", "Event type"),
}
