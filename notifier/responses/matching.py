"""Which of a number's open questions an answer is for.

- One open question, or several for the same location on the same day (a family's
  appointments, one after the other): the answer is for all of them.
- A code: the answer is for that question alone; a code that matches none gets a
  clarification.
- Several other questions and no code: a clarification that lists each one's date, time
  and code, so that the patient answers again with the code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from notifier.responses.questions import OpenQuestion
from notifier.responses.words import Answer, Reading


@dataclass(frozen=True)
class Answered:
    """The answer is for ``questions`` (one, or one same-day group at one location)."""

    questions: tuple[OpenQuestion, ...]


@dataclass(frozen=True)
class Clarify:
    """Ask which appointment: ``questions`` are the number's open ones, soonest first."""

    questions: tuple[OpenQuestion, ...]


def open_questions(questions: Iterable[OpenQuestion], now: dt.datetime) -> tuple[OpenQuestion, ...]:
    """The questions still open at ``now``, soonest appointment first."""
    return tuple(sorted((q for q in questions if q.is_open(now)),
                        key=lambda q: (q.closes_at, q.reference)))


def offered(reading: Reading, questions: Iterable[OpenQuestion], now: dt.datetime) -> bool:
    """Whether one of ``questions`` still open at ``now`` offered what ``reading`` answers:
    a "2" where no open question offered it is no decline (a person reads it instead)."""
    return reading.answer is Answer.CONFIRMED or any(
        q.decline for q in open_questions(questions, now))


def match(
    reading: Reading, questions: Iterable[OpenQuestion], now: dt.datetime
) -> Answered | Clarify | None:
    """What ``reading`` answers among ``questions`` (a number's, as stored); None when
    none is open.

    Parameters:
      reading: the text, read (:func:`~notifier.responses.words.read_reply`).
      questions: the number's questions, open or not.
      now: when the text came.
    """
    current = open_questions(questions, now)
    if not current:
        return None
    if reading.code is not None:
        # Two questions share a code only when both messages left at the same instant.
        hit = tuple(q for q in current if q.code == reading.code)
        return Answered(hit) if _one_group(hit) else Clarify(current)
    return Answered(current) if _one_group(current) else Clarify(current)


def _one_group(questions: tuple[OpenQuestion, ...]) -> bool:
    """Whether ``questions`` are one appointment, or a family's at one location on one
    day (answered together)."""
    return len({(q.location, q.closes_at.date()) for q in questions}) == 1
