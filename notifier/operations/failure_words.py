"""Why a message failed, in words an operator reads, in English and French.

A failure's reason in the delivery counts is either a provider's code (a Twilio error
code for SMS and voice, an SMTP reply code or one of our SMTP client's words for email)
or one of the gateway's reason codes. Each gets one sentence.
"""

from __future__ import annotations

from notifier.bilingual import Bilingual
from notifier.channels.twilio import errors as twilio_errors
from notifier.domain import Channel, Lang
from notifier.planning import reasons
from notifier.planning.reasons import Reason

# Sentences for the send step's reasons; every other reason reads as reasons.describe
# words it.
_SEND_REASONS: dict[Reason, Bilingual] = {
    Reason.OPTED_OUT: Bilingual(
        "Non envoyé : le numéro s'est désabonné de ce mode de communication.",
        "Not sent: the number has opted out of this channel.",
    ),
    Reason.INTERRUPTED: Bilingual(
        "Arrêté : les envois du courriel ont été interrompus et l'un d'eux a peut-être atteint le "
        "serveur de courriel, qu'on ne peut pas interroger; il n'a pas été renvoyé, pour éviter "
        "un doublon.",
        "Stopped: the email's attempts were interrupted and one may have reached the mail server, "
        "which cannot be asked; it was not sent again, to avoid a duplicate.",
    ),
    Reason.RETRIES_EXHAUSTED: Bilingual(
        "Échec : l'envoi a échoué de façon imprévue jusqu'à épuisement des nouvelles tentatives; "
        "consultez les journaux des workers.",
        "Failed: sending it kept failing unexpectedly until every retry was used; see the "
        "workers' logs.",
    ),
    Reason.PROVIDER_PERMANENT: Bilingual(
        "Échec : le fournisseur a refusé ce message de façon définitive.",
        "Failed: the provider refused this message for good.",
    ),
    Reason.PROVIDER_CONFIGURATION: Bilingual(
        "Échec : le fournisseur a refusé notre compte ou nos paramètres; vérifiez la "
        "configuration.",
        "Failed: the provider refused our account or settings; check the configuration.",
    ),
}
_NO_REASON = Bilingual("Le fournisseur n'a donné aucune raison.", "The provider gave no reason.")

# SMTP: our client's own words for failures without a reply code (channels/smtp/failures.py).
_SMTP_WORDS: dict[str, Bilingual] = {
    "timeout": Bilingual(
        "Le serveur de courriel n'a pas répondu à temps; rien n'a été envoyé.",
        "The mail server did not answer in time; nothing was sent.",
    ),
    "connection": Bilingual(
        "Impossible de joindre le serveur de courriel; rien n'a été envoyé.",
        "The mail server could not be reached; nothing was sent.",
    ),
    "data-timeout": Bilingual(
        "La connexion a coupé pendant que le serveur de courriel prenait le message : il a "
        "peut-être été mis en file.",
        "The connection broke while the mail server took the message: it may have been queued.",
    ),
    "tls": Bilingual(
        "La connexion sécurisée (TLS) au serveur de courriel a échoué; vérifiez le paramètre de "
        "sécurité et le certificat du serveur.",
        "The secure (TLS) connection to the mail server failed; check the security setting and "
        "the server's certificate.",
    ),
    "not-supported": Bilingual(
        "Le serveur de courriel n'offre pas ce que les paramètres exigent (STARTTLS, AUTH ou "
        "SMTPUTF8).",
        "The mail server does not offer what the settings require (STARTTLS, AUTH or SMTPUTF8).",
    ),
    "address": Bilingual(
        "L'adresse courriel du patient n'est pas une simple adresse (un nom ou des chevrons "
        "autour, ou des lettres accentuées) : on ne peut pas y écrire; corrigez-la dans le "
        "système de rendez-vous.",
        "The patient's email address is not one plain address (a name or angle brackets around "
        "it, or accented letters): it cannot be sent to; correct it in the booking system.",
    ),
    "message": Bilingual(
        "Le courriel n'a pas pu être composé à partir des renseignements du rendez-vous; rien n'a "
        "été envoyé.",
        "The email could not be built from the appointment's details; nothing was sent.",
    ),
}

_SMTP_CODES: dict[int, Bilingual] = {
    421: Bilingual(
        "Le serveur de courriel n'est pas disponible pour l'instant (réponse 421).",
        "The mail server is unavailable for now (reply 421).",
    ),
    450: Bilingual(
        "La boîte aux lettres du destinataire n'est pas disponible pour l'instant (réponse 450).",
        "The recipient's mailbox is unavailable for now (reply 450).",
    ),
    451: Bilingual(
        "Le serveur de courriel a eu une erreur locale; un nouvel essai pourrait fonctionner "
        "(réponse 451).",
        "The mail server had a local error; it may work later (reply 451).",
    ),
    452: Bilingual(
        "Le serveur de courriel manque d'espace pour l'instant (réponse 452).",
        "The mail server is out of room for now (reply 452).",
    ),
    535: Bilingual(
        "Le serveur de courriel a refusé notre connexion; vérifiez le nom d'utilisateur et le mot "
        "de passe SMTP (réponse 535).",
        "The mail server refused our login; check the SMTP user name and password (reply 535).",
    ),
    550: Bilingual(
        "La boîte aux lettres du destinataire n'existe pas ou refuse le courriel (réponse 550).",
        "The recipient's mailbox does not exist or refuses mail (reply 550).",
    ),
    551: Bilingual(
        "Le destinataire n'est pas sur ce serveur de courriel (réponse 551).",
        "The recipient is not local to the mail server (reply 551).",
    ),
    552: Bilingual(
        "La boîte aux lettres du destinataire est pleine (réponse 552).",
        "The recipient's mailbox is full (reply 552).",
    ),
    553: Bilingual(
        "L'adresse courriel n'est pas valide (réponse 553).",
        "The email address is not valid (reply 553).",
    ),
    554: Bilingual(
        "Le serveur de courriel a refusé le message, souvent comme pourriel (réponse 554).",
        "The mail server refused the message, often as spam (reply 554).",
    ),
}


def _smtp_reply(code: int, lang: Lang) -> str:
    if code in _SMTP_CODES:
        return _SMTP_CODES[code][lang]
    if 400 <= code < 500:
        return Bilingual(
            f"Le serveur de courriel a refusé pour l'instant (réponse {code}); un nouvel "
            "essai pourrait fonctionner.",
            f"The mail server refused for now (reply {code}); a retry may work.",
        )[lang]
    return Bilingual(
        f"Le serveur de courriel a refusé le message (réponse {code}).",
        f"The mail server refused the message (reply {code}).",
    )[lang]


def explain_failure(reason: str, channel: Channel | str | None, lang: Lang) -> str:
    """One sentence about why a message was not delivered.

    Parameters:
      reason: the provider's code or the gateway's reason code, as counted.
      channel: the message's channel: decides whether a number is a Twilio or an SMTP code.
      lang: the operator's language.
    """
    if reason.isdigit():
        code = int(reason)
        if channel == Channel.EMAIL:
            return _smtp_reply(code, lang)
        return twilio_errors.explain(code, lang)
    if channel == Channel.EMAIL and reason in _SMTP_WORDS:
        return _SMTP_WORDS[reason][lang]
    if not reason:
        return _NO_REASON[lang]
    if reason in _SEND_REASONS:
        return _SEND_REASONS[Reason(reason)][lang]
    return reasons.describe(reason, lang)
