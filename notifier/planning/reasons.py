"""Why a message was not sent: reason codes and the sentence an operator reads for each.

Codes are stable words (they appear in the API, the history and the metrics); the
sentences are for people and exist in English and in French.
"""

from __future__ import annotations

import enum

from notifier.bilingual import Bilingual
from notifier.domain import Lang


class Reason(enum.StrEnum):
    """Every reason the gateway gives for not sending, or not applying, something."""

    # Events.
    STALE_VERSION = "stale_version"
    DUPLICATE_EVENT = "duplicate_event"
    # Planning.
    NO_ADDRESS = "no_address"
    NOTHING_VISIBLE_CHANGED = "nothing_visible_changed"
    HIDE_NAME_ONLY = "hide_name_only"
    CONTACT_UNCHANGED = "contact_unchanged"
    ALREADY_CANCELLED = "already_cancelled"
    START_IN_PAST = "start_in_past"
    CONFIRMATION_PENDING = "confirmation_pending"
    REMINDER_TIME_PASSED = "reminder_time_passed"
    OUTSIDE_WINDOW = "outside_window"
    NO_SHOW_DISABLED = "no_show_disabled"
    WITHDRAWN = "withdrawn"
    # Send time.
    UNKNOWN_APPOINTMENT = "unknown_appointment"
    PAST_DEADLINE = "past_deadline"
    CANCELLED = "cancelled"
    NO_LONGER_CANCELLED = "no_longer_cancelled"
    SUPERSEDED = "superseded"
    START_PASSED = "start_passed"
    ATTENDANCE_CHANGED = "attendance_changed"
    CHANNEL_NOT_CHOSEN = "channel_not_chosen"
    OVER_BUDGET = "over_budget"
    DESTINATION_NOT_ALLOWED = "destination_not_allowed"
    OPTED_OUT = "opted_out"
    PATIENT_CONFIRMED = "patient_confirmed"
    # Send time, after the provider answered or Dramatiq gave up.
    INTERRUPTED = "interrupted"
    RETRIES_EXHAUSTED = "retries_exhausted"
    PROVIDER_PERMANENT = "provider_permanent"
    PROVIDER_CONFIGURATION = "provider_configuration"


_TEXTS: dict[Reason, Bilingual] = {
    Reason.STALE_VERSION: Bilingual(
        "Ignoré : la passerelle a déjà cette version du rendez-vous ou une plus récente.",
        "Ignored: the gateway already holds the same or a newer version of this appointment.",
    ),
    Reason.DUPLICATE_EVENT: Bilingual(
        "Ignoré : cet événement a déjà été reçu; il n’a été appliqué qu’une fois.",
        "Ignored: this event was already received; it was applied once.",
    ),
    Reason.NO_ADDRESS: Bilingual(
        "Non envoyé : le patient a choisi ce mode, mais le rendez-vous n’a pas l’adresse courriel "
        "ou le numéro de téléphone nécessaire.",
        "Not sent: the patient chose this mode but the appointment has no email address or phone "
        "number for it.",
    ),
    Reason.NOTHING_VISIBLE_CHANGED: Bilingual(
        "Non envoyé : rien de ce que voit le patient (date, heure, durée, professionnel, lieu) "
        "n’a changé.",
        "Not sent: nothing the patient sees (date, time, duration, professional, location) "
        "changed.",
    ),
    Reason.HIDE_NAME_ONLY: Bilingual(
        "Non envoyé : seule l’option « Masquer le nom des professionnels » a changé; elle ne "
        "touche pas un rendez-vous déjà pris.",
        "Not sent: only the option to hide the professional's name changed, which does not affect "
        "an existing appointment.",
    ),
    Reason.CONTACT_UNCHANGED: Bilingual(
        "Non envoyé : les coordonnées et les modes de communication du patient sont les mêmes "
        "qu’avant.",
        "Not sent: the patient's contact details and communication modes are the same as before.",
    ),
    Reason.ALREADY_CANCELLED: Bilingual(
        "Non envoyé : le rendez-vous était déjà annulé; le patient en a été avisé.",
        "Not sent: the appointment was already cancelled; the patient was told then.",
    ),
    Reason.START_IN_PAST: Bilingual(
        "Non envoyé : le début du rendez-vous n’est pas dans le futur.",
        "Not sent: the appointment's start is not in the future.",
    ),
    Reason.CONFIRMATION_PENDING: Bilingual(
        "Pas d’envoi distinct : la confirmation n’est pas encore partie et contiendra les "
        "nouveaux renseignements.",
        "Not sent separately: the confirmation has not left yet and will carry the new details.",
    ),
    Reason.REMINDER_TIME_PASSED: Bilingual(
        "Non planifié : le moment prévu pour ce rappel était déjà passé.",
        "Not planned: the time for this reminder had already passed.",
    ),
    Reason.OUTSIDE_WINDOW: Bilingual(
        "Non envoyé : les heures d’envoi du mode de communication ne rouvrent pas avant "
        "l’échéance du message.",
        "Not sent: the channel's sending hours do not open again before the message's deadline.",
    ),
    Reason.NO_SHOW_DISABLED: Bilingual(
        "Non envoyé : l’option de message aux patients absents est désactivée pour ce lieu.",
        "Not sent: the location's no-show message option is off.",
    ),
    Reason.WITHDRAWN: Bilingual(
        "Retiré avant l’envoi : le rendez-vous a changé et le message ne s’applique plus.",
        "Withdrawn before it left: the appointment changed and the message no longer applies.",
    ),
    Reason.UNKNOWN_APPOINTMENT: Bilingual(
        "Non envoyé : la passerelle n’a plus ce rendez-vous.",
        "Not sent: the gateway no longer holds this appointment.",
    ),
    Reason.PAST_DEADLINE: Bilingual(
        "Non envoyé : son échéance était passée au moment de l’envoi.",
        "Not sent: its deadline had passed when it was due to leave.",
    ),
    Reason.CANCELLED: Bilingual(
        "Non envoyé : le rendez-vous a été annulé.",
        "Not sent: the appointment has been cancelled.",
    ),
    Reason.NO_LONGER_CANCELLED: Bilingual(
        "Non envoyé : le rendez-vous n’est plus annulé.",
        "Not sent: the appointment is no longer cancelled.",
    ),
    Reason.SUPERSEDED: Bilingual(
        "Non envoyé : le rendez-vous a changé après la planification de ce rappel; une "
        "planification plus récente le remplace.",
        "Not sent: the appointment changed after this reminder was planned; a newer plan replaces "
        "it.",
    ),
    Reason.START_PASSED: Bilingual(
        "Non envoyé : le rendez-vous était déjà commencé.",
        "Not sent: the appointment had already started.",
    ),
    Reason.ATTENDANCE_CHANGED: Bilingual(
        "Non envoyé : le patient n’est plus indiqué absent.",
        "Not sent: the patient is no longer marked absent.",
    ),
    Reason.CHANNEL_NOT_CHOSEN: Bilingual(
        "Non envoyé : le patient n’utilise plus ce mode de communication, ou son adresse a été "
        "retirée.",
        "Not sent: the patient no longer uses this communication mode, or its address was removed.",
    ),
    Reason.OVER_BUDGET: Bilingual(
        "Non envoyé : ce texto dépasserait le nombre maximal de segments, même avec les accents "
        "simplifiés et les noms abrégés.",
        "Not sent: this SMS would take more segments than the budget allows, even with accents "
        "simplified and names shortened.",
    ),
    Reason.DESTINATION_NOT_ALLOWED: Bilingual(
        "Non envoyé : la passerelle n’envoie pas de texto ni d’appel à ce numéro (numéro surtaxé, "
        "sans frais ou non géographique, ou d’une région qu’elle n’est pas configurée pour "
        "joindre).",
        "Not sent: the gateway does not text or call this number (premium-rate, toll-free or "
        "non-geographic, or in a region it is not set to reach).",
    ),
    Reason.PATIENT_CONFIRMED: Bilingual(
        "Non envoyé : le patient a confirmé ce rendez-vous, et le lieu ne rappelle pas un "
        "rendez-vous confirmé.",
        "Not sent: the patient confirmed this appointment, and the location sends no further "
        "reminder once an appointment is confirmed.",
    ),
}


def describe(reason: str, lang: Lang) -> str:
    """The operator-facing sentence for a reason code, in ``lang``.

    An unknown code (from a newer gateway, say) still gets a sentence that names it.
    """
    try:
        return _TEXTS[Reason(reason)][lang]
    except (ValueError, KeyError):
        return Bilingual(f"Non envoyé (code : {reason}).", f"Not sent (code: {reason}).")[lang]
