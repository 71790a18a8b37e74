"""What a patient's text answers to a question: confirm, decline, or nothing we read.

Keywords come first (``notifier.inbound.keywords``): STOP, ARRET, START, YES, HELP...
are never read here. YES is Twilio's opt-in word: a "YES" opts the number back in and
never confirms. ANNULER is read as a decline only while a question is open (it is no
keyword: without a question it gets the usual "we do not reply" notice).

A reply is one word, or one word and a three-digit code in either order ("1 482",
"482 1", "oui 482"); case, accents, punctuation and emoji around it do not count, as for
keywords. Anything else ("oui merci", "je serai en retard") is not an answer.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from notifier.patient_text import normalise


class Answer(enum.StrEnum):
    """A patient response."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"


# Written as `normalise` leaves them: capitals, no accents.
CONFIRM_WORDS = frozenset({"1", "OUI", "O", "C", "Y", "OK", "CONFIRMER", "CONFIRME",
                           "CONFIRM"})
DECLINE_WORDS = frozenset({"2", "NON", "N", "NO"})
# A decline only while a question is open: a patient who writes ANNULER then wants to
# cancel that appointment (and ANNULER must never be an opt-out).
DECLINE_WHEN_ASKED = frozenset({"ANNULER"})

_CODE = re.compile(r"[0-9]{3}")
_SEPARATORS = re.compile(r"[^0-9A-Z]+")


@dataclass(frozen=True)
class Reading:
    """A text read as an answer.

    Parameters:
      answer: what the patient answers.
      code: the three-digit code they gave with it, if any.
    """

    answer: Answer
    code: str | None = None


def _word(token: str, *, question_open: bool) -> Answer | None:
    if token in CONFIRM_WORDS:
        return Answer.CONFIRMED
    if token in DECLINE_WORDS or (question_open and token in DECLINE_WHEN_ASKED):
        return Answer.DECLINED
    return None


def read_reply(text: str, *, question_open: bool) -> Reading | None:
    """The answer ``text`` gives, or None when it is not one. Never raises.

    Parameters:
      text: the SMS body as the patient sent it.
      question_open: whether the number has an open question (ANNULER declines only then).
    """
    tokens = [t for t in _SEPARATORS.split(normalise(text)) if t]
    if len(tokens) == 1:
        answer = _word(tokens[0], question_open=question_open)
        return None if answer is None else Reading(answer)
    if len(tokens) != 2:
        return None
    for word, code in (tokens, tokens[::-1]):
        answer = _word(word, question_open=question_open)
        if answer is not None and _CODE.fullmatch(code):
            return Reading(answer, code)
    return None
