"""What a Twilio error means for a message, and how to say it to an operator.

Pure: :func:`classify` reads an HTTP status and a Twilio error code (from a failed API
call, or the ``ErrorCode`` of a status callback, which has no HTTP status) and returns
the :class:`~notifier.errors.FailureClass` that decides retry or stop.

Twilio itself warns that it refines its codes over time, so codes not listed here fall
back on their family: an unknown 2xxxx (API request errors) is permanent, an unknown
3xxxx (carrier delivery errors) is transient. Callers that want "transient once" for unknown
codes can ask :func:`is_known`.
"""

from __future__ import annotations

from notifier.bilingual import Bilingual
from notifier.domain import Lang
from notifier.errors import FailureClass

RATE_LIMITED = 20429
# Twilio documents 20503 only as "temporarily unavailable, back off and retry", never as
# "not taken", and documents that a create answered with a 5xx may have sent the SMS or
# placed the call: like every other 5xx on a create, it is ambiguous.
SERVICE_UNAVAILABLE = 20503

PERMANENT_CODES = frozenset({21610, 21211, 21614, 21635, 30004, 30005, 30006, 30007})
TRANSIENT_CODES = frozenset(
    {RATE_LIMITED, 21611, 30001, 30003, 30008, 30450, 30500}
)
CONFIGURATION_CODES = frozenset({20003, 21408, 21606, 30032, 30034})

# Twilio's codes are five digits; the twilio library puts the HTTP status in ``code``
# when the answer carried no code of its own.
_FIRST_TWILIO_CODE = 10000


def classify(http_status: int | None, code: int | None) -> FailureClass:
    """The failure class of a Twilio error.

    Parameters:
      http_status: the HTTP status of a failed API call; None for a status callback's
        ``ErrorCode`` or when no answer came at all.
      code: Twilio's error code, if any.

    Order matters: a 429 (or 20429) is always safe to retry; any 5xx on a create, 503
    included, and a 20503 are ambiguous whatever the code (the message may have been
    taken: Twilio is asked before it is sent again); then a listed code's class; a 401,
    403 or 404 (our account or address is wrong); then the code's family; then the HTTP
    status.
    """
    if code is not None and code < _FIRST_TWILIO_CODE:
        code = None
    if http_status == 429 or code == RATE_LIMITED:
        return FailureClass.TRANSIENT
    if (http_status is not None and http_status >= 500) or code == SERVICE_UNAVAILABLE:
        return FailureClass.AMBIGUOUS
    if code is not None:
        if code in PERMANENT_CODES:
            return FailureClass.PERMANENT
        if code in TRANSIENT_CODES:
            return FailureClass.TRANSIENT
        if code in CONFIGURATION_CODES:
            return FailureClass.CONFIGURATION
    if http_status in (401, 403, 404):
        # Wrong credentials, a forbidden resource or a wrong account or API address.
        return FailureClass.CONFIGURATION
    if code is not None:
        if 30000 <= code < 40000:
            return FailureClass.TRANSIENT
        if 20000 <= code < 30000:
            return FailureClass.PERMANENT
    if http_status is not None and 400 <= http_status < 500:
        return FailureClass.PERMANENT
    # No answer at all (timeout, connection lost): the provider may have the message.
    return FailureClass.AMBIGUOUS


def is_known(code: int | None) -> bool:
    """Whether ``code`` is one of the codes classified by name (not by its family)."""
    return code in PERMANENT_CODES | TRANSIENT_CODES | CONFIGURATION_CODES


_EXPLANATIONS: dict[int, Bilingual] = {
    21610: Bilingual(
        "Le destinataire s'est désabonné des textos de cet expéditeur (il a répondu STOP).",
        "The recipient has opted out of texts from this sender (they replied STOP).",
    ),
    21211: Bilingual(
        "Le numéro de téléphone du destinataire n'est pas valide.",
        "The recipient's phone number is not valid.",
    ),
    21614: Bilingual(
        "Ce numéro n'est pas un cellulaire et ne peut pas recevoir de textos (un appel vocal "
        "pourrait fonctionner).",
        "The number is not a cell phone and cannot receive texts (a voice call may work).",
    ),
    21635: Bilingual(
        "Ce numéro est une ligne fixe et ne peut pas recevoir de textos (un appel vocal pourrait "
        "fonctionner).",
        "The number is a landline and cannot receive texts (a voice call may work).",
    ),
    30004: Bilingual(
        "Le message a été bloqué par le destinataire ou par son opérateur.",
        "The message was blocked by the recipient or their carrier.",
    ),
    30005: Bilingual(
        "Le numéro est inconnu de son opérateur ou n'est plus en service.",
        "The number is unknown to its carrier or no longer in service.",
    ),
    30006: Bilingual(
        "Le numéro est une ligne fixe ou son opérateur est injoignable : il ne peut pas recevoir "
        "de textos.",
        "The number is a landline or its carrier cannot be reached: it cannot receive texts.",
    ),
    30007: Bilingual(
        "L'opérateur a filtré le message comme indésirable (filtre antipourriel).",
        "The carrier filtered the message as unwanted (spam filtering).",
    ),
    RATE_LIMITED: Bilingual(
        "Twilio limite le rythme de nos requêtes : le message est réessayé, de moins en moins "
        "souvent, jusqu'à son échéance.",
        "Twilio is limiting how fast we send requests: the message is tried again, less and less "
        "often, until its deadline.",
    ),
    SERVICE_UNAVAILABLE: Bilingual(
        "Twilio était indisponible et a peut-être pris le message, peut-être pas : on le vérifie "
        "auprès de Twilio avant de le renvoyer.",
        "Twilio was unavailable and may or may not have taken the message: Twilio is asked before "
        "it is sent again.",
    ),
    21611: Bilingual(
        "La file d'attente des textos sortants de l'expéditeur est pleine : le message est "
        "réessayé, de moins en moins souvent, jusqu'à son échéance.",
        "The sender's queue of outgoing texts is full: the message is tried again, less and less "
        "often, until its deadline.",
    ),
    30001: Bilingual(
        "La file d'envoi de Twilio a débordé avant que le message puisse partir.",
        "Twilio's sending queue overflowed before the message could go out.",
    ),
    30003: Bilingual(
        "Le téléphone du destinataire est injoignable (éteint ou hors de la zone de couverture).",
        "The recipient's phone cannot be reached (turned off or out of coverage).",
    ),
    30008: Bilingual(
        "L'opérateur a signalé une erreur inconnue.",
        "The carrier reported an unknown error.",
    ),
    30450: Bilingual(
        "La protection antifraude de Twilio bloque ce numéro pendant 15 à 30 minutes.",
        "Twilio's fraud protection is blocking this number for 15 to 30 minutes.",
    ),
    30500: Bilingual(
        "Twilio a eu une erreur interne en traitant le message.",
        "Twilio had an internal error while handling the message.",
    ),
    20003: Bilingual(
        "Twilio a refusé nos identifiants : vérifiez le SID du compte et le jeton "
        "d'authentification.",
        "Twilio refused our credentials: check the account SID and the auth token.",
    ),
    21408: Bilingual(
        "Le compte Twilio n'a pas l'autorisation de joindre ce pays ou cette région "
        "(autorisations géographiques).",
        "The Twilio account is not allowed to reach this country or region (geographic "
        "permissions).",
    ),
    21606: Bilingual(
        "Le numéro expéditeur ne peut pas envoyer de textos à partir de ce compte Twilio.",
        "The sender number cannot send texts from this Twilio account.",
    ),
    30032: Bilingual(
        "Le numéro sans frais expéditeur n'a pas été vérifié auprès de Twilio.",
        "The toll-free sender number has not been verified with Twilio.",
    ),
    30034: Bilingual(
        "Le numéro expéditeur n'est pas inscrit au programme américain A2P 10DLC.",
        "The sender number is not registered for US A2P 10DLC messaging.",
    ),
}

_BY_CLASS: dict[FailureClass, Bilingual] = {
    FailureClass.PERMANENT: Bilingual(
        "Twilio a refusé le message définitivement{code}.",
        "Twilio refused the message for good{code}.",
    ),
    FailureClass.TRANSIENT: Bilingual(
        "Twilio n'a pas pu livrer le message pour l'instant{code}; il sera réessayé.",
        "Twilio could not deliver the message for now{code}; it will be tried again.",
    ),
    FailureClass.CONFIGURATION: Bilingual(
        "Twilio a refusé la requête à cause de notre compte ou de nos paramètres{code}.",
        "Twilio refused the request because of our account or settings{code}.",
    ),
    FailureClass.AMBIGUOUS: Bilingual(
        "Twilio n'a pas donné de réponse claire{code} : le message a peut-être été pris en "
        "charge, peut-être pas.",
        "Twilio gave no clear answer{code}: the message may or may not have been taken.",
    ),
}


def explain(code: int | None, lang: Lang, *, http_status: int | None = None) -> str:
    """One sentence for operators about a Twilio error, in French or English.

    A listed code has its own sentence; any other gets its class's sentence, naming the
    code (or the HTTP status) when there is one.
    """
    if code is not None and code in _EXPLANATIONS:
        return _EXPLANATIONS[code][lang]
    failure = classify(http_status, code)
    shown = code if code is not None else http_status
    word = Bilingual("erreur", "error")[lang]
    part = "" if shown is None else f" ({word} {shown})"
    return _BY_CLASS[failure][lang].format(code=part)
