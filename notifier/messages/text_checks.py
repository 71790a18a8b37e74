"""Words and addresses a message to patients must not hold: an invitation to send a carrier
keyword other than ours (a patient who answers CANCEL is unsubscribed from every message
by the carrier; one who answers YES is opted back in, whatever the question was), and web
addresses where none may appear. Pure text checks."""

from __future__ import annotations

import re
import unicodedata

# Carrier and provider opt-out words (Twilio's English list, the Government of Canada's
# French ones) other than the one our messages mean: STOP / ARRET.
OPT_OUT_WORDS = frozenset(
    {
        "CANCEL", "END", "QUIT", "UNSUBSCRIBE", "STOPALL", "REVOKE", "OPTOUT", "OPT-OUT",
        "ANNULER", "ANNULE", "ANNULATION", "FIN", "ARET", "ARRETER", "DESABONNER",
        "DESINSCRIRE", "DESINSCRIPTION",
    }
)
# Twilio's opt-in words other than the one our opt-out answer invites (START / REPRISE):
# a patient asked to answer YES to a question would be opted in instead.
OPT_IN_WORDS = frozenset({"YES", "UNSTOP"})
CARRIER_WORDS = OPT_OUT_WORDS | OPT_IN_WORDS
# A verb that asks the patient to send something, then the word asked for.
_INVITATION = re.compile(
    r"\b(?:reply|respond|answer|text|txt|send|type|write"
    r"|r[ée]pond(?:ez|re)|textez|texter|envoy(?:ez|er)|[ée]criv(?:ez)|[ée]crire|tapez|taper)\b"
    r"[\s:,]*(?:(?:with|the|word|avec|le|mot|by|par)\s+){0,3}[\"'«“(]*\s*(?P<word>[\w-]+)",
    re.IGNORECASE,
)
_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:ca|com|org|net|info|quebec)\b\S*",
    re.IGNORECASE,
)


def _plain_upper(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper()


def invited_carrier_words(text: str) -> list[str]:
    """Carrier opt-out and opt-in words that ``text`` asks the patient to send back."""
    found = [m["word"] for m in _INVITATION.finditer(text)]
    return [word for word in found if _plain_upper(word) in CARRIER_WORDS]


def shouted_carrier_words(text: str) -> list[str]:
    """Carrier words written in capitals, as keywords are: ``ANNULER``, ``CANCEL``,
    ``YES``."""
    return [
        word for word in re.findall(r"[\w-]{3,}", text)
        if word.isupper() and _plain_upper(word) in CARRIER_WORDS
    ]


def web_addresses(text: str) -> list[str]:
    """Every web address in ``text`` (trailing punctuation left out)."""
    return [m.group(0).rstrip(".,;:!?)\"'") for m in _URL.finditer(text)]
