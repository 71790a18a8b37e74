"""What requeuing a dead letter will do, said before the operator clicks.

A requeued send meets the send step's own checks (:func:`~notifier.planning.send_check.
decide_at_send`) against the appointment as stored now: this module asks them at ``now``,
so the page can say "goes now", "goes when the sending window opens at ...", or "will be
held back: the appointment was cancelled". A requeued event is simply read again by
intake. Pure: the caller reads the state and passes the clock.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from notifier.domain import Status
from notifier.planning.entries import AppointmentState, PlannedMessage
from notifier.planning.reasons import Reason
from notifier.planning.send_check import Defer, Drop, decide_at_send
from notifier.settings import Settings


class Outcome(enum.StrEnum):
    """What a requeue leads to."""

    SEND_NOW = "send_now"
    SEND_LATER = "send_later"  # outside the channel's sending window until ``at``
    HELD_BACK = "held_back"  # the send step will drop it, for ``reason``
    EVENT_AGAIN = "event_again"  # an event: intake reads it again
    UNKNOWN = "unknown"  # a message whose content cannot be read


@dataclass(frozen=True)
class Outlook:
    """The consequence of a requeue at one instant.

    Parameters:
      outcome: what happens.
      at: for ``send_later``, when the window opens (UTC).
      reason: for ``held_back``, why the send step drops it.
      booked: whether the appointment is still booked (None when the gateway no longer
        holds it, or for an event).
      start_passed: whether the appointment's start has passed (None when unknown).
    """

    outcome: Outcome
    at: dt.datetime | None = None
    reason: Reason | None = None
    booked: bool | None = None
    start_passed: bool | None = None


def send_outlook(message: PlannedMessage, state: AppointmentState | None,
                 settings: Settings, now: dt.datetime) -> Outlook:
    """What requeuing the send of ``message`` does at ``now``.

    Parameters:
      message: the dead send's planned message.
      state: its appointment as stored now (None when no longer held).
      settings: the deployment's settings (sending windows, destination policy).
      now: the current time (aware).
    """
    booked = None if state is None else state.appointment.status is Status.BOOKED
    passed = None if state is None else state.appointment.start_utc() <= now
    decision = decide_at_send(message, state, settings, now)
    if isinstance(decision, Drop):
        return Outlook(Outcome.HELD_BACK, reason=decision.reason, booked=booked,
                       start_passed=passed)
    if isinstance(decision, Defer):
        return Outlook(Outcome.SEND_LATER, at=decision.until, booked=booked,
                       start_passed=passed)
    return Outlook(Outcome.SEND_NOW, booked=booked, start_passed=passed)


def event_outlook(state: AppointmentState | None, now: dt.datetime) -> Outlook:
    """What requeuing an event does: intake reads it again (the appointment as stored
    now said alongside, ``state`` None when not held).

    Parameters:
      state: the event's appointment as stored now.
      now: the current time (aware).
    """
    if state is None:
        return Outlook(Outcome.EVENT_AGAIN)
    return Outlook(Outcome.EVENT_AGAIN,
                   booked=state.appointment.status is Status.BOOKED,
                   start_passed=state.appointment.start_utc() <= now)
