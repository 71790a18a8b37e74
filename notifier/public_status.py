"""The words the gateway tells the outside what became of a message: one status and one
reason code, the same in the integrators' API, their callbacks and the console.

Statuses, in the order a message moves through them (a final one never changes again)::

    scheduled  <  sending  <  sent  <  delivered | failed | suppressed
    scheduled  <  withdrawn

- ``scheduled``: planned, waiting for its time (or its sending hours);
- ``withdrawn``: planned, then taken back before it left because the appointment changed;
- ``sending``: being handed to its provider, or waiting to try again after a failure;
- ``sent``: the provider took it (an email handed to its mail server is sent);
- ``delivered``: the provider says it reached the patient's phone (SMS) or was answered
  (a call);
- ``failed``: it will not reach the patient: the reason says why, and whether the address
  must be fixed at the source (:data:`UNDELIVERABLE`);
- ``suppressed``: the gateway chose not to send it when it was due (the patient opted out,
  the appointment was cancelled or moved, ...).

Reason codes are stable words. The gateway's own (``opted_out``, ``cancelled``,
``superseded``, ``retries_exhausted``, ...) are those of
:class:`~notifier.planning.reasons.Reason`; a provider's refusal becomes one of the
words of :class:`ProviderReason`, and the provider's own code travels beside it.
Pure: no Redis, no clock.
"""

from __future__ import annotations

import enum

from notifier.bilingual import Bilingual
from notifier.channels.twilio.errors import CONFIGURATION_CODES
from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel, Lang
from notifier.operations.failure_words import explain_failure
from notifier.planning.reasons import Reason


class PublicStatus(enum.StrEnum):
    """What became of a message, as the gateway tells it outside."""

    SCHEDULED = "scheduled"
    WITHDRAWN = "withdrawn"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


# Each public status's place in the order a message moves through them: a receiver keeps
# the highest, and statuses of the same rank are final.
RANK: dict[PublicStatus, int] = {
    PublicStatus.SCHEDULED: 0,
    PublicStatus.SENDING: 1,
    PublicStatus.SENT: 2,
    PublicStatus.DELIVERED: 3,
    PublicStatus.FAILED: 3,
    PublicStatus.SUPPRESSED: 3,
    PublicStatus.WITHDRAWN: 3,
}
FINAL = frozenset(status for status, rank in RANK.items() if rank == 3)

_FROM_RECORD: dict[DeliveryStatus, PublicStatus] = {
    DeliveryStatus.SUBMITTING: PublicStatus.SENDING,
    DeliveryStatus.RETRYING: PublicStatus.SENDING,
    # Twilio's "accepted" and "queued": taken, not yet handed to a carrier.
    DeliveryStatus.ACCEPTED: PublicStatus.SENT,
    DeliveryStatus.SENT: PublicStatus.SENT,
    DeliveryStatus.DELIVERED: PublicStatus.DELIVERED,
    DeliveryStatus.UNDELIVERED: PublicStatus.FAILED,
    DeliveryStatus.FAILED: PublicStatus.FAILED,
    DeliveryStatus.SUPPRESSED: PublicStatus.SUPPRESSED,
}


def public_status(status: DeliveryStatus) -> PublicStatus:
    """The public status of a delivery record's ``status``."""
    return _FROM_RECORD[status]


class ProviderReason(enum.StrEnum):
    """Why a provider refused a message or could not deliver it, in the gateway's words."""

    LANDLINE = "landline"
    INVALID_NUMBER = "invalid_number"
    UNREACHABLE = "unreachable"
    CARRIER_FILTERED = "carrier_filtered"
    BOUNCED = "bounced"
    INVALID_ADDRESS = "invalid_address"
    REJECTED = "rejected"
    CONFIGURATION = "configuration"


_TWILIO_CODES: dict[int, ProviderReason] = {
    21614: ProviderReason.LANDLINE,
    21635: ProviderReason.LANDLINE,
    30006: ProviderReason.LANDLINE,
    21211: ProviderReason.INVALID_NUMBER,
    30005: ProviderReason.INVALID_NUMBER,
    30003: ProviderReason.UNREACHABLE,
    30004: ProviderReason.CARRIER_FILTERED,
    30007: ProviderReason.CARRIER_FILTERED,
}
_SMTP_CODES: dict[str, ProviderReason] = {
    "550": ProviderReason.BOUNCED,
    "551": ProviderReason.BOUNCED,
    "552": ProviderReason.BOUNCED,
    "553": ProviderReason.INVALID_ADDRESS,
    "address": ProviderReason.INVALID_ADDRESS,
}
# A failure for one of these reasons repeats for every message to the same address: the
# booking system must fix the address (a ``contact.undeliverable`` callback says so).
UNDELIVERABLE = frozenset({
    ProviderReason.LANDLINE, ProviderReason.INVALID_NUMBER, ProviderReason.BOUNCED,
    ProviderReason.INVALID_ADDRESS,
})
# The provider's own opt-out (Twilio 21610: the number replied STOP to this sender).
_TWILIO_OPTED_OUT = 21610


def public_reason(
    status: DeliveryStatus, *, reason: str | None, error_code: str | None, channel: Channel,
) -> str | None:
    """The public reason code of a delivery record: None while nothing went wrong.

    Parameters:
      status: the record's status.
      reason: the record's ``reason`` field (a :class:`Reason` code), if any.
      error_code: the provider's code the record keeps (a Twilio error code, an SMTP reply
        code or word), if any.
      channel: the message's channel (which provider's codes ``error_code`` holds).
    """
    public = public_status(status)
    if public not in (PublicStatus.FAILED, PublicStatus.SUPPRESSED):
        return None
    if reason == Reason.PROVIDER_CONFIGURATION:
        return ProviderReason.CONFIGURATION
    if reason not in (None, "", Reason.PROVIDER_PERMANENT):
        return reason
    return _provider_reason(error_code or "", channel)


def _provider_reason(code: str, channel: Channel) -> str:
    if channel is Channel.EMAIL:
        return _SMTP_CODES.get(code, ProviderReason.REJECTED)
    number = int(code) if code.isdigit() else None
    if number == _TWILIO_OPTED_OUT:
        return Reason.OPTED_OUT
    if number in CONFIGURATION_CODES:
        return ProviderReason.CONFIGURATION
    if number is not None and number in _TWILIO_CODES:
        return _TWILIO_CODES[number]
    if number is not None and number >= 30000:
        return ProviderReason.UNREACHABLE  # a carrier's delivery error (30xxx)
    return ProviderReason.REJECTED


_PROVIDER_TEXTS: dict[ProviderReason, Bilingual] = {
    ProviderReason.LANDLINE: Bilingual(
        "Échec : ce numéro est une ligne fixe et ne peut pas recevoir de textos; demandez un "
        "numéro de cellulaire au patient, ou choisissez l'appel vocal.",
        "Failed: this number is a landline and cannot receive texts; ask the patient for a "
        "mobile number, or choose a voice call.",
    ),
    ProviderReason.INVALID_NUMBER: Bilingual(
        "Échec : ce numéro n'est pas valide ou n'est plus en service; demandez au patient son "
        "numéro actuel.",
        "Failed: this number is not valid or no longer in service; ask the patient for their "
        "current number.",
    ),
    ProviderReason.UNREACHABLE: Bilingual(
        "Échec : le téléphone du patient est resté injoignable (éteint ou hors réseau) jusqu'à "
        "ce que l'opérateur abandonne.",
        "Failed: the patient's phone stayed unreachable (off or out of coverage) until the "
        "carrier gave up.",
    ),
    ProviderReason.CARRIER_FILTERED: Bilingual(
        "Échec : l'opérateur du patient a bloqué ou filtré le message.",
        "Failed: the patient's carrier blocked or filtered the message.",
    ),
    ProviderReason.BOUNCED: Bilingual(
        "Échec : la boîte aux lettres n'existe pas, est pleine ou refuse le courriel; demandez "
        "au patient une autre adresse.",
        "Failed: the mailbox does not exist, is full or refuses mail; ask the patient for "
        "another address.",
    ),
    ProviderReason.INVALID_ADDRESS: Bilingual(
        "Échec : l'adresse courriel n'est pas valide; corrigez-la dans le système de "
        "rendez-vous.",
        "Failed: the email address is not valid; correct it in the booking system.",
    ),
    ProviderReason.REJECTED: Bilingual(
        "Échec : le fournisseur a refusé ce message de façon définitive; le code du fournisseur "
        "l'explique.",
        "Failed: the provider refused this message for good; the provider's code explains why.",
    ),
    ProviderReason.CONFIGURATION: Bilingual(
        "Échec : le fournisseur a refusé le compte ou les paramètres de la passerelle; "
        "l'exploitant de la passerelle doit corriger sa configuration.",
        "Failed: the provider refused the gateway's account or settings; the gateway's operator "
        "must fix its configuration.",
    ),
}


def describe_reason(code: str, lang: Lang) -> str:
    """The sentence a person reads for a public reason ``code``, in ``lang``."""
    try:
        return _PROVIDER_TEXTS[ProviderReason(code)][lang]
    except ValueError:
        return explain_failure(code, None, lang)


_STATUS_TEXTS: dict[PublicStatus, Bilingual] = {
    PublicStatus.SCHEDULED: Bilingual("Planifié : il partira à son heure.",
                                      "Scheduled: it will leave at its time."),
    PublicStatus.WITHDRAWN: Bilingual(
        "Retiré : le rendez-vous a changé avant son départ et il ne s'applique plus.",
        "Withdrawn: the appointment changed before it left and it no longer applies.",
    ),
    PublicStatus.SENDING: Bilingual(
        "En cours d'envoi : il est remis au fournisseur, ou un nouvel essai suivra.",
        "Sending: it is being handed to the provider, or another try will follow.",
    ),
    PublicStatus.SENT: Bilingual("Envoyé : le fournisseur l'a pris en charge.",
                                 "Sent: the provider has taken it."),
    PublicStatus.DELIVERED: Bilingual(
        "Livré : le fournisseur confirme qu'il a atteint le patient.",
        "Delivered: the provider confirms it reached the patient.",
    ),
    PublicStatus.FAILED: Bilingual("Échec : il n'atteindra pas le patient.",
                                   "Failed: it will not reach the patient."),
    PublicStatus.SUPPRESSED: Bilingual(
        "Non envoyé : la passerelle ne l'a pas envoyé à son heure.",
        "Suppressed: the gateway did not send it when it was due.",
    ),
}


def describe_status(status: PublicStatus, lang: Lang) -> str:
    """The sentence a person reads for a public ``status``, in ``lang``."""
    return _STATUS_TEXTS[status][lang]


_STATUS_WORDS: dict[PublicStatus, Bilingual] = {
    PublicStatus.SCHEDULED: Bilingual("planifié", "scheduled"),
    PublicStatus.WITHDRAWN: Bilingual("retiré", "withdrawn"),
    PublicStatus.SENDING: Bilingual("en cours d'envoi", "sending"),
    PublicStatus.SENT: Bilingual("envoyé", "sent"),
    PublicStatus.DELIVERED: Bilingual("livré", "delivered"),
    PublicStatus.FAILED: Bilingual("échec", "failed"),
    PublicStatus.SUPPRESSED: Bilingual("non envoyé", "suppressed"),
}


def status_word(status: PublicStatus, lang: Lang) -> str:
    """A public ``status`` in one word or two, as a list or a table row shows it."""
    return _STATUS_WORDS[status][lang]
