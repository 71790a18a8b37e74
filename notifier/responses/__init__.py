"""Patient responses: a patient answers a reminder's question ("1 to confirm, 2 if you
cannot come") by SMS, later by a keypress. Pure: every function takes ``now``; nothing
here touches Redis, the network or the clock.

The small API the webhook, the voice keypress and the simulator call:

- :func:`~notifier.responses.words.read_reply`: what a text says (an answer and maybe a
  code), or None when it is not an answer;
- :func:`~notifier.responses.questions.asks`: whether a message of a location asks;
  :func:`~notifier.responses.questions.plan_question`: the code the next question of a
  number takes, and whether its message shows it;
  :func:`~notifier.responses.questions.question_for`: the :class:`OpenQuestion` a message
  opens once its provider took it;
- :func:`~notifier.responses.matching.match`: which of a number's open questions an
  answer is for (:class:`Answered`), or a clarification (:class:`Clarify`);
- :func:`~notifier.responses.recheck.recheck`: whether the appointment is still the one
  the patient was asked about (a :class:`Changed` reason otherwise), and
  :func:`~notifier.responses.recheck.standing`: a number's questions that still are;
- :func:`~notifier.responses.answers.confirmed_as_is`: whether a stored response
  confirms the appointment as it is now (a confirmed appointment may skip its reminders).
"""

from notifier.responses.answers import (
    PatientResponse,
    answered_as_is,
    confirmed_as_is,
    reminders_skipped,
)
from notifier.responses.matching import Answered, Clarify, match
from notifier.responses.questions import (
    OpenQuestion,
    QuestionPlan,
    appointment_fingerprint,
    asks,
    plan_question,
    question_for,
)
from notifier.responses.recheck import Changed, recheck, standing
from notifier.responses.words import Answer, Reading, read_reply

__all__ = [
    "Answer",
    "Answered",
    "Changed",
    "Clarify",
    "OpenQuestion",
    "PatientResponse",
    "QuestionPlan",
    "Reading",
    "answered_as_is",
    "appointment_fingerprint",
    "asks",
    "confirmed_as_is",
    "match",
    "plan_question",
    "question_for",
    "read_reply",
    "recheck",
    "reminders_skipped",
    "standing",
]
