"""A patient response as the appointment keeps it, and what it means for the messages
still to come.

The rule when answers change: the latest answer while the question is open wins. Each
answer that changes the stored one is told to the booking system
(``appointment.patient_confirmed`` or ``appointment.patient_declined``); one that repeats
it tells nothing and gets the same reply. Answers are recorded one at a time (one Lua
script), so the last callback told always equals the stored response.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from notifier.domain import Channel
from notifier.planning.entries import AppointmentState
from notifier.responses.questions import appointment_fingerprint
from notifier.responses.words import Answer


@dataclass(frozen=True)
class PatientResponse:
    """The latest answer stored on an appointment.

    Parameters:
      answer: confirmed or declined.
      answered_at: when.
      channel: how (``sms``, ``voice``).
      version: the appointment's version the question was asked for.
      who: the digest of the number that answered (never the number).
      fingerprint: what the patient answered about (:func:`appointment_fingerprint`).
      past_cancellation_deadline: a decline that came after the cancellation deadline.
    """

    answer: Answer
    answered_at: dt.datetime
    channel: Channel
    version: int
    who: str
    fingerprint: str
    past_cancellation_deadline: bool = False

    def fields(self) -> dict[str, str]:
        """The stored form: the appointment's response hash."""
        return {
            "answer": str(self.answer), "at": self.answered_at.astimezone(dt.UTC).isoformat(),
            "channel": str(self.channel), "version": str(self.version), "who": self.who,
            "fingerprint": self.fingerprint,
            "late": "1" if self.past_cancellation_deadline else "0",
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> PatientResponse | None:
        """Read :meth:`fields` back; None for an empty hash (no answer)."""
        if not fields.get("answer"):
            return None
        return cls(
            answer=Answer(fields["answer"]),
            answered_at=dt.datetime.fromisoformat(fields["at"]),
            channel=Channel(fields["channel"]), version=int(fields["version"]),
            who=fields["who"], fingerprint=fields["fingerprint"],
            past_cancellation_deadline=fields.get("late") == "1",
        )


def answered_as_is(response: PatientResponse | None, state: AppointmentState | None) -> bool:
    """Whether ``response`` answers the appointment as ``state`` holds it now (either
    way): an answer about a time that has moved since answers nothing."""
    return (
        response is not None and state is not None
        and response.fingerprint == appointment_fingerprint(state.appointment)
    )


def confirmed_as_is(response: PatientResponse | None, state: AppointmentState | None) -> bool:
    """Whether ``response`` confirms the appointment as ``state`` holds it now: a
    confirmation of a time that has moved since confirms nothing."""
    return (answered_as_is(response, state) and response is not None
            and response.answer is Answer.CONFIRMED)


def reminders_skipped(response: PatientResponse | None, state: AppointmentState | None) -> bool:
    """Whether the appointment's remaining reminders are not sent: its location skips them
    once the patient confirmed (``skip_reminders_when_confirmed``), and ``response``
    confirms the appointment as ``state`` holds it now."""
    options = state.appointment.location.patient_responses if state is not None else None
    return bool(options and options.skip_reminders_when_confirmed
                and confirmed_as_is(response, state))
