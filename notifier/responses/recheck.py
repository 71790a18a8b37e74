"""The re-check at reply time: is the appointment still the one the patient was asked
about? A reply to an appointment that has since moved, been cancelled or started, or
whose patient's number on the question's channel changed (the mobile for a text, the
home phone for a call), changes nothing; the patient is told that the
appointment changed (see our latest message, or call the clinic)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping

from notifier.domain import Status
from notifier.planning.entries import AppointmentState
from notifier.responses.matching import open_questions
from notifier.responses.questions import OpenQuestion, appointment_fingerprint


class Changed(enum.StrEnum):
    """Why an answer no longer applies."""

    GONE = "gone"  # the gateway no longer holds the appointment
    CANCELLED = "cancelled"
    STARTED = "started"
    MOVED = "moved"  # date, time, place or professional changed since it was asked
    NUMBER_CHANGED = "number_changed"  # the patient's number for that channel is another now


def recheck(
    question: OpenQuestion, state: AppointmentState | None, number: str, now: dt.datetime
) -> Changed | None:
    """Why an answer from ``number`` to ``question`` no longer applies to the appointment
    as stored (``state``), or None when it does.

    Parameters:
      question: the question answered.
      state: the appointment as stored now (None when it is gone).
      number: the number that answered (E.164), compared with the patient's address on
        the channel the question was asked on (a call goes to the home phone).
      now: when the answer came.
    """
    if state is None:
        return Changed.GONE
    appointment = state.appointment
    if appointment.status is Status.CANCELLED:
        return Changed.CANCELLED
    if appointment.start_utc() <= now:
        return Changed.STARTED
    if appointment_fingerprint(appointment) != question.fingerprint:
        return Changed.MOVED
    if appointment.patient.address_for(question.channel) != number:
        return Changed.NUMBER_CHANGED
    return None


def standing(
    questions: Iterable[OpenQuestion], states: Mapping[str, AppointmentState | None],
    number: str, now: dt.datetime,
) -> tuple[OpenQuestion, ...]:
    """The questions still open at ``now`` whose appointment is still the one asked about
    (:func:`recheck`), soonest first: the ones an answer may be for, and the ones that make
    a number's next question show its code. A question about an appointment that changed
    stays stored until the start, so that a late answer to it gets "changed".

    Parameters:
      questions: a number's questions as stored.
      states: the appointments as stored now, by reference (None: gone).
      number: the number asked.
      now: the moment.
    """
    return tuple(q for q in open_questions(questions, now)
                 if recheck(q, states.get(q.reference), number, now) is None)
