"""What a patient's text means: a keyword (STOP, ARRET, START, REPRISE, HELP, AIDE, INFO)
or anything else.

A keyword is the whole message, as carriers and Twilio match it: "Arrêt !" and "stop 🙏"
are keywords, "je veux arrêter" and "please stop texting me" are not. Case, accents,
full-width letters and the punctuation, quotes, emoji and spaces around the word do not
count (see :func:`notifier.patient_text.normalise`). Pure: no clock, no Redis.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from notifier.domain import Lang
from notifier.patient_text import normalise

__all__ = ["KEYWORDS", "OTHER", "TWILIO_DEFAULT_WORDS", "Keyword", "KeywordKind", "normalise",
           "parse"]


class KeywordKind(enum.StrEnum):
    """What a keyword asks for."""

    STOP = "stop"  # no more SMS to this number
    START = "start"  # SMS again
    HELP = "help"  # how to get help
    INFO = "info"  # who we are, in both languages
    OTHER = "other"  # not a keyword: "we do not reply to texts"


@dataclass(frozen=True)
class Keyword:
    """One inbound message, understood.

    Parameters:
      kind: what the patient asks for.
      lang: the language of the word (FR for ARRET, AIDE, REPRISE...; EN for STOP, HELP,
        START...), which the reply is written in; None for INFO and OTHER, which are
        answered in both languages.
      word: the keyword as matched, normalised ("ARRET" for "arrêt !"); "" for OTHER.
    """

    kind: KeywordKind
    lang: Lang | None
    word: str

    @property
    def twilio_default(self) -> bool:
        """Whether Twilio's own default keyword handling knows this word (it answers and
        blocks English words only). Twilio may match more strictly than we do (it
        ignores case and surrounding spaces, nothing more is documented): the webhook's
        ``OptOutType`` parameter says what Twilio actually did."""
        return self.word in TWILIO_DEFAULT_WORDS


OTHER = Keyword(KeywordKind.OTHER, None, "")

# Every word is written as `normalise` leaves it: capitals, no accents, single spaces.
_STOP, _START, _HELP, _INFO = (
    KeywordKind.STOP, KeywordKind.START, KeywordKind.HELP, KeywordKind.INFO,
)
_WORDS: dict[KeywordKind, dict[str, Lang | None]] = {
    _STOP: {
        # Twilio's default opt-out words (Twilio's Advanced Opt-Out docs; its built-in
        # opt-out knows English only). CANCEL is one of them: we never invite it, but it
        # must stop, because Twilio blocks the number whatever we do and both states must
        # agree.
        "STOP": Lang.EN, "STOPALL": Lang.EN, "UNSUBSCRIBE": Lang.EN, "CANCEL": Lang.EN,
        "END": Lang.EN, "QUIT": Lang.EN, "REVOKE": Lang.EN, "OPTOUT": Lang.EN,
        # The same words as patients also type them: "STOP ALL" (Telnyx's default
        # list), "OPT-OUT" / "OPT OUT" (AWS End User Messaging's required list),
        # "UNSUB" (Twilio's Canadian short-code STOP guidelines).
        "STOP ALL": Lang.EN, "OPT-OUT": Lang.EN, "OPT OUT": Lang.EN, "UNSUB": Lang.EN,
        # "REMOVE" is on AWS's list of opt-out words required in Canada and the US.
        "REMOVE": Lang.EN,
        # French. ARRET is mandatory on Canadian short codes (CWTA); the Government of
        # Canada's notification service also accepts ARRÊT (ARRET once accents are
        # gone), ARET and FIN; ARRRET is a key tapped twice on a phone keyboard; ARRETT
        # and ARRETE are on Twilio's own French opt-out list (Twilio Proxy docs).
        # "ARRETEZ", "ARRETER" (verbs) and "ANNULER" are deliberately NOT here: a patient
        # who writes "Annuler" wants to cancel an appointment, not to lose its reminders;
        # they get the "we do not reply" answer instead.
        "ARRET": Lang.FR, "ARET": Lang.FR, "ARRRET": Lang.FR, "ARRETT": Lang.FR,
        "ARRETE": Lang.FR, "FIN": Lang.FR,
        # French counterparts of UNSUBSCRIBE: unambiguous as a whole message.
        "DESABONNER": Lang.FR, "DESINSCRIRE": Lang.FR,
    },
    _START: {
        # Twilio's default opt-in words. YES is one of them: Twilio opts the number back
        # in on it, so we must too.
        "START": Lang.EN, "YES": Lang.EN, "UNSTOP": Lang.EN,
        # REPRISE is Rendez-vous santé Québec's opt-in word, the one our STOP answer
        # invites. Nothing else in French: an opt-in must be explicit, and "OUI" or
        # "REPRENDRE" are what patients answer to a reminder ("yes, I'll come", "take the
        # appointment again").
        "REPRISE": Lang.FR,
    },
    _HELP: {"HELP": Lang.EN, "AIDE": Lang.FR},  # mandatory on Canadian short codes (CWTA)
    _INFO: {
        # INFO is mandatory (CWTA) and answered in both languages; INFOS is how Québec
        # writes it, INFORMATION(S) is the same word in full in both languages.
        "INFO": None, "INFOS": None, "INFORMATION": None, "INFORMATIONS": None,
    },
}
KEYWORDS: dict[str, Keyword] = {
    word: Keyword(kind, lang, word) for kind, words in _WORDS.items()
    for word, lang in words.items()
}

# What Twilio answers and enforces by itself unless Advanced Opt-Out changes it.
TWILIO_DEFAULT_WORDS = frozenset(
    {
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
        "START", "YES", "UNSTOP", "HELP", "INFO",
    }
)


def parse(text: str) -> Keyword:
    """The keyword ``text`` is, or :data:`OTHER`. Never raises."""
    return KEYWORDS.get(normalise(text), OTHER)
