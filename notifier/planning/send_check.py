"""The send-time decision: decide late, check again.

A planned message leaves only if it is still true of the appointment as stored when it
is due: not cancelled, not moved, not started, still on a mode the patient uses, inside
its channel's sending hours and before its deadline, and, for a text or a call, still to a
number the destination policy allows (the policy may have changed since intake).

Where the location has a channel fallback, the send step also reads what
:class:`FallbackFacts` holds: a message to an address known undeliverable on its channel
is suppressed (``contact_undeliverable``: its fallback follows), and a fallback or a
call's retry goes through every check above too, but not once another message of its
family was delivered or the patient answered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from notifier.destinations import destination_policy
from notifier.domain import Attendance, Channel, Kind, Status
from notifier.planning.entries import AppointmentState, PlannedMessage, Route
from notifier.planning.fallback import fallback_address
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


@dataclass(frozen=True)
class FallbackFacts:
    """What the store knows at send time that only a location with a fallback reads.

    Parameters:
      undeliverable: (channel, address) pairs known undeliverable (the contact-health
        registry), among the patient's addresses.
      delivered: whether another message of the family was delivered.
      answered: whether the patient already answered this appointment version.
    """

    undeliverable: frozenset[tuple[Channel, str]] = field(default_factory=frozenset)
    delivered: bool = False
    answered: bool = False

    def is_undeliverable(self, channel: Channel, address: str) -> bool:
        return (channel, address) in self.undeliverable


NO_FACTS = FallbackFacts()


def decide_at_send(
    message: PlannedMessage,
    state: AppointmentState | None,
    settings: Settings,
    now: dt.datetime,
    *,
    facts: FallbackFacts = NO_FACTS,
    confirmed: bool = False,
) -> Send | Defer | Drop:
    """What to do with ``message`` at ``now``, given the appointment as stored now.

    Parameters:
      facts: where the location has a fallback, what the store read for the message.
      confirmed: the patient confirmed the appointment as it is now and its location
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
    chosen = _address(message, appointment.patient.address_for, state, facts)
    if isinstance(chosen, Drop):
        return chosen
    address = chosen
    if message.channel is not Channel.EMAIL and not destination_policy(settings).allows(address):
        return Drop(Reason.DESTINATION_NOT_ALLOWED)
    window = settings.window(message.channel)
    opening = window.first_opening(now, appointment.location.zone)
    if opening != now.astimezone(dt.UTC):
        return Defer(opening) if opening < message.deadline else Drop(Reason.OUTSIDE_WINDOW)
    return Send(address)


def _address(
    message: PlannedMessage, address_for: Callable[[Channel], str | None],
    state: AppointmentState, facts: FallbackFacts,
) -> str | Drop:
    """The address ``message`` goes to, or why it does not leave (the fallback's rules)."""
    appointment = state.appointment
    if message.route is None:
        address = address_for(message.channel)
        assert address is not None, "channels() only lists modes with an address"
        if appointment.location.fallback is not None and facts.is_undeliverable(
                message.channel, address):
            return Drop(Reason.CONTACT_UNDELIVERABLE)
        return address
    if appointment.location.fallback is None:
        return Drop(Reason.FALLBACK_OFF)
    if facts.delivered:
        return Drop(Reason.ALREADY_DELIVERED)
    if facts.answered:
        return Drop(Reason.ALREADY_ANSWERED)
    if message.route is Route.RETRY:
        retried = address_for(message.channel)
        assert retried is not None, "channels() only lists modes with an address"
        return retried
    found = fallback_address(appointment, message.channel,
                             undeliverable=facts.is_undeliverable)
    return Drop(Reason.FALLBACK_OFF) if found is None else found


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
    # A fallback may use a mode not chosen (its own rules, in _address, say when).
    if message.route is not Route.FALLBACK and message.channel not in appointment.channels():
        return Reason.CHANNEL_NOT_CHOSEN
    return None
