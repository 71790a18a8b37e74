"""What an operator does next about a message, by its public reason: one sentence in each
language, shown beside the reason on the console's message list and in its export.

Every public reason has one (:data:`NEXT_STEPS`; a unit test holds the list whole): the
gateway's own (:class:`~notifier.planning.reasons.Reason`) and the providers'
(:class:`~notifier.public_status.ProviderReason`). Pure: no Redis, no clock.
"""

from __future__ import annotations

from notifier.bilingual import Bilingual
from notifier.planning.reasons import Reason
from notifier.public_status import ProviderReason

_NOTHING = Bilingual(
    "Rien à faire : c’est voulu, le rendez-vous ou le choix du patient a changé.",
    "Nothing to do: this is intended; the appointment or the patient’s choice changed.",
)
_NOTHING_GATEWAY = Bilingual(
    "Rien à faire : la passerelle a jugé ce message inutile à ce moment-là.",
    "Nothing to do: the gateway found this message no longer useful at that time.",
)
_ASK_NUMBER = Bilingual(
    "Demandez au patient un numéro valide; le changement de coordonnées dans le système "
    "de rendez-vous renverra le message.",
    "Ask the patient for a valid number; the booking system’s contact change will send it "
    "again.",
)
_ASK_EMAIL = Bilingual(
    "Demandez au patient une autre adresse courriel et corrigez-la dans le système de "
    "rendez-vous; le changement la renverra.",
    "Ask the patient for another email address and correct it in the booking system; the "
    "change will send it again.",
)
_CALL = Bilingual(
    "Si le message comptait, joignez le patient autrement (appel par la clinique).",
    "If the message mattered, reach the patient another way (a call from the clinic).",
)
_GATEWAY_ADMIN = Bilingual(
    "Prévenez l’exploitant de la passerelle : sa configuration chez le fournisseur est à "
    "corriger; les messages suivants échoueront aussi.",
    "Tell the gateway’s operator: its settings with the provider must be fixed; the next "
    "messages will fail too.",
)
_IGNORED = Bilingual(
    "Rien à faire : l’événement a été ignoré, pas le message.",
    "Nothing to do: the event was ignored, not a message.",
)

NEXT_STEPS: dict[str, Bilingual] = {
    ProviderReason.LANDLINE: Bilingual(
        "Demandez au patient un numéro de cellulaire; le changement de coordonnées dans le "
        "système de rendez-vous le renverra.",
        "Ask the patient for a mobile number; the booking system’s contact change will send "
        "it again.",
    ),
    ProviderReason.INVALID_NUMBER: _ASK_NUMBER,
    ProviderReason.UNREACHABLE: Bilingual(
        "Le téléphone était éteint ou hors réseau : si le message comptait, appelez le "
        "patient; rien à corriger dans son dossier.",
        "The phone was off or out of coverage: if the message mattered, call the patient; "
        "nothing to fix in their file.",
    ),
    ProviderReason.CARRIER_FILTERED: Bilingual(
        "L’opérateur du patient a filtré le message : joignez le patient autrement; si cela "
        "se répète, prévenez l’exploitant de la passerelle.",
        "The patient’s carrier filtered the message: reach the patient another way; if it "
        "keeps happening, tell the gateway’s operator.",
    ),
    ProviderReason.BOUNCED: _ASK_EMAIL,
    ProviderReason.INVALID_ADDRESS: Bilingual(
        "Corrigez l’adresse courriel dans le système de rendez-vous; le changement la "
        "renverra.",
        "Correct the email address in the booking system; the change will send it again.",
    ),
    ProviderReason.REJECTED: Bilingual(
        "Le fournisseur a refusé ce message : joignez le patient autrement, et transmettez le "
        "code du fournisseur (dans l’historique) à l’exploitant de la passerelle.",
        "The provider refused this message: reach the patient another way, and pass the "
        "provider’s code (in the story) to the gateway’s operator.",
    ),
    ProviderReason.CONFIGURATION: _GATEWAY_ADMIN,
    Reason.PROVIDER_CONFIGURATION: _GATEWAY_ADMIN,
    Reason.PROVIDER_PERMANENT: Bilingual(
        "Le fournisseur a refusé ce message : joignez le patient autrement.",
        "The provider refused this message: reach the patient another way.",
    ),
    Reason.OPTED_OUT: Bilingual(
        "Le patient a refusé les textos (ARRÊT) : ne les réactivez qu’à sa demande écrite; "
        "joignez-le autrement s’il le faut.",
        "The patient opted out of texts (STOP): turn them back on only at their written "
        "request; reach them another way if needed.",
    ),
    Reason.RETRIES_EXHAUSTED: Bilingual(
        "La passerelle a épuisé ses essais : voyez les messages en échec (lettres mortes) "
        "pour le renvoyer, ou prévenez l’exploitant.",
        "The gateway used every retry: see the dead letters to send it again, or tell the "
        "gateway’s operator.",
    ),
    Reason.INTERRUPTED: Bilingual(
        "L’envoi a été interrompu sans certitude : vérifiez auprès du patient avant de le "
        "renvoyer depuis les lettres mortes.",
        "The send was interrupted without certainty: check with the patient before sending "
        "it again from the dead letters.",
    ),
    Reason.PAST_DEADLINE: _CALL,
    Reason.OUTSIDE_WINDOW: _CALL,
    Reason.OVER_BUDGET: Bilingual(
        "Le texto serait trop long : raccourcissez les paragraphes personnalisés du lieu; "
        "joignez le patient autrement d’ici là.",
        "The text would be too long: shorten the location’s custom paragraphs; reach the "
        "patient another way meanwhile.",
    ),
    Reason.DESTINATION_NOT_ALLOWED: Bilingual(
        "La passerelle ne joint pas ce numéro : demandez au patient un numéro canadien "
        "ordinaire et corrigez-le dans le système de rendez-vous.",
        "The gateway does not reach this number: ask the patient for an ordinary Canadian "
        "number and correct it in the booking system.",
    ),
    Reason.NO_ADDRESS: Bilingual(
        "Ajoutez l’adresse ou le numéro du patient dans le système de rendez-vous.",
        "Add the patient’s address or number in the booking system.",
    ),
    Reason.CONTACT_UNDELIVERABLE: Bilingual(
        "Cette adresse a déjà échoué : corrigez-la dans le système de rendez-vous (voir les "
        "contacts injoignables).",
        "This address already failed: correct it in the booking system (see the "
        "undeliverable contacts).",
    ),
    Reason.UNKNOWN_APPOINTMENT: Bilingual(
        "Vérifiez que le système de rendez-vous envoie encore ce rendez-vous; sinon, rien à "
        "faire.",
        "Check that the booking system still sends this appointment; otherwise nothing to "
        "do.",
    ),
    Reason.WITHDRAWN: _NOTHING,
    Reason.CANCELLED: _NOTHING,
    Reason.NO_LONGER_CANCELLED: _NOTHING,
    Reason.SUPERSEDED: _NOTHING,
    Reason.START_PASSED: _NOTHING,
    Reason.ATTENDANCE_CHANGED: _NOTHING,
    Reason.CHANNEL_NOT_CHOSEN: _NOTHING,
    Reason.PATIENT_CONFIRMED: _NOTHING,
    Reason.ALREADY_DELIVERED: _NOTHING_GATEWAY,
    Reason.ALREADY_ANSWERED: _NOTHING_GATEWAY,
    Reason.FALLBACK_OFF: _NOTHING_GATEWAY,
    Reason.NOTHING_VISIBLE_CHANGED: _NOTHING_GATEWAY,
    Reason.HIDE_NAME_ONLY: _NOTHING_GATEWAY,
    Reason.CONTACT_UNCHANGED: _NOTHING_GATEWAY,
    Reason.ALREADY_CANCELLED: _NOTHING_GATEWAY,
    Reason.START_IN_PAST: _NOTHING_GATEWAY,
    Reason.CONFIRMATION_PENDING: _NOTHING_GATEWAY,
    Reason.REMINDER_TIME_PASSED: _NOTHING_GATEWAY,
    Reason.NO_SHOW_DISABLED: _NOTHING_GATEWAY,
    Reason.STALE_VERSION: _IGNORED,
    Reason.DUPLICATE_EVENT: _IGNORED,
}

_UNKNOWN = Bilingual(
    "Consultez l’historique du rendez-vous; au besoin, prévenez l’exploitant de la "
    "passerelle.",
    "Read the appointment’s story; if need be, tell the gateway’s operator.",
)


def next_step(reason: str | None) -> Bilingual | None:
    """What to do about a message whose public reason is ``reason`` (None: nothing went
    wrong, nothing to say); a code from a newer gateway gets a general sentence."""
    if not reason:
        return None
    return NEXT_STEPS.get(reason, _UNKNOWN)
