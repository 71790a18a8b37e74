"""The send-time decision: decide late, check again.

A planned message leaves only if it is still true of the appointment as stored when it
is due: not cancelled, not moved, not started, still on a mode the patient uses, inside
its channel's sending hours and before its deadline, and, for a text or a call, still to a
number the destination policy allows (the policy may have changed since intake).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from notifier.destinations import destination_policy
from notifier.domain import Attendance, Channel, Kind, Status
from notifier.planning.entries import AppointmentState, PlannedMessage
from notifier.planning.reasons import Reason
from notifier.settings import Settings


@dataclass(frozen=True)
class Send:
    """Send now. Parameters: address: the patient's address on the message's channel."""

    address: str


@dataclass(frozen=True)
class Defer:
    """Outside the channel's hours now, but they open again before the deadline.

    Parameters: until: when they open (UTC).
    """

    until: dt.datetime


@dataclass(frozen=True)
class Drop:
    """Never send this message. Parameters: reason: why."""

    reason: Reason


def decide_at_send(
    message: PlannedMessage,
    state: AppointmentState | None,
    settings: Settings,
    now: dt.datetime,
    *,
    confirmed: bool = False,
) -> Send | Defer | Drop:
    """What to do with ``message`` at ``now``, given the appointment as stored now.

    ``confirmed``: the patient confirmed the appointment as it is now and its location
    skips the remaining reminders of a confirmed appointment (see
    :func:`notifier.responses.confirmed_as_is`).
    """
    reason = _why_not(message, state, now)
    if reason is None and confirmed and message.kind is Kind.REMINDER:
        reason = Reason.PATIENT_CONFIRMED
    if reason is not None:
        return Drop(reason)
    assert state is not None
    appointment = state.appointment
    address = appointment.patient.address_for(message.channel)
    assert address is not None, "channels() only lists modes with an address"
    if message.channel is not Channel.EMAIL and not destination_policy(settings).allows(address):
        return Drop(Reason.DESTINATION_NOT_ALLOWED)
    window = settings.window(message.channel)
    opening = window.first_opening(now, appointment.location.zone)
    if opening != now.astimezone(dt.UTC):
        return Defer(opening) if opening < message.deadline else Drop(Reason.OUTSIDE_WINDOW)
    return Send(address)


def _why_not(
    message: PlannedMessage, state: AppointmentState | None, now: dt.datetime
) -> Reason | None:
    if state is None:
        return Reason.UNKNOWN_APPOINTMENT
    if now >= message.deadline:
        return Reason.PAST_DEADLINE
    appointment = state.appointment
    cancelled = appointment.status is Status.CANCELLED
    kind = message.kind
    if kind is Kind.CANCELLATION:
        if not cancelled:
            return Reason.NO_LONGER_CANCELLED
    elif cancelled:
        return Reason.CANCELLED
    if kind is Kind.REMINDER:
        if message.start != appointment.start_utc():
            return Reason.SUPERSEDED  # it would announce a time that has moved
    elif state.planned.get(message.slot, message.version) > message.version:
        return Reason.SUPERSEDED  # a newer plan for the same slot will say it
    if kind is Kind.NO_SHOW:
        if appointment.attendance is not Attendance.ABSENT:
            return Reason.ATTENDANCE_CHANGED
        if not appointment.location.no_show_message:
            return Reason.NO_SHOW_DISABLED
    elif appointment.start_utc() <= now:
        return Reason.START_PASSED
    if message.channel not in appointment.channels():
        return Reason.CHANNEL_NOT_CHOSEN
    return None
