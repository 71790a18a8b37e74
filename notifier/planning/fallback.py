"""Channel fallback: which message may stand in for one that could not reach the patient.
Pure: no Redis, no clock.

RVSQ sends a message by every mode the patient chose, so a fallback adds something only
when every chosen mode failed for that message (the same appointment, kind and version,
or the same reminder). The messages of one such *family* differ only by channel and route
(:class:`~notifier.planning.entries.Route`); :func:`family_keys` names them all.

Where a fallback may go, for a location's :class:`~notifier.domain.FallbackPolicy`:

- the stand-ins the policy lists for the failed channel, in its order;
- a stand-in that is a mode the patient chose goes to an address of theirs that mode has
  not used for this message: a call goes to the home number, else the mobile number (a
  "mobile" that turned out to be a landline takes calls); a text only to the mobile
  number; an email to the email address;
- a stand-in that is a mode the patient did not choose only where the policy allows it
  *and* the patient consented (``fallback_consent``);
- never to an address known undeliverable on that channel, nor to the address that just
  failed on it.

A fallback is one message per family and channel: its send key is the family's on that
channel with the route ``fallback``; a second failure of the same family never plans a
second one on the same channel.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from notifier.domain import Appointment, Channel, FallbackPolicy, Kind, Patient
from notifier.planning.entries import AppointmentState, PlannedMessage, Route, slot_parts


class Next(enum.StrEnum):
    """What a failure leads to."""

    NOTHING = "nothing"
    RETRY = "retry"
    FALLBACK = "fallback"


@dataclass(frozen=True)
class Verdict:
    """What a failure means beyond the message.

    Parameters:
      next: nothing more, one retry, or the fallback.
      undeliverable: the public reason the address is undeliverable for, or None.
    """

    next: Next
    undeliverable: str | None = None


NOTHING = Verdict(Next.NOTHING)
# The public reasons that say an address is undeliverable on its channel, as
# notifier.public_status.UNDELIVERABLE lists them (a unit test holds them equal): the
# store, which cannot import that module, clears a replaced address's by these.
UNDELIVERABLE_REASONS = ("bounced", "invalid_address", "invalid_number", "landline")


def addresses(patient: Patient, channel: Channel) -> list[str]:
    """The patient's addresses a message on ``channel`` may go to, the usual one first: a
    call to the home number then the mobile number; a text to the mobile number; an
    email to the email address."""
    found = {
        Channel.VOICE: [patient.home_phone, patient.mobile_phone],
        Channel.SMS: [patient.mobile_phone],
        Channel.EMAIL: [patient.email],
    }[channel]
    return list(dict.fromkeys(address for address in found if address))


def may_use(appointment: Appointment, channel: Channel) -> bool:
    """Whether a fallback may go by ``channel``: a chosen mode, or, where the location
    allows it, one the patient consented to be reached by."""
    policy = appointment.location.fallback
    if policy is None:
        return False
    patient = appointment.patient
    return channel in patient.modes or (policy.unchosen_modes and bool(patient.fallback_consent))


def fallback_address(
    appointment: Appointment, channel: Channel, *,
    undeliverable: Callable[[Channel, str], bool],
) -> str | None:
    """The address a fallback on ``channel`` goes to, or None when there is none left.

    Parameters:
      appointment: the appointment as stored now.
      channel: the fallback's channel.
      undeliverable: whether an address is known undeliverable on a channel.
    """
    if not may_use(appointment, channel):
        return None
    tried = appointment.patient.address_for(channel) if channel in appointment.channels() else None
    for address in addresses(appointment.patient, channel):
        if address != tried and not undeliverable(channel, address):
            return address
    return None


def stand_ins(policy: FallbackPolicy, failed: Iterable[Channel]) -> list[Channel]:
    """The channels that may stand in for ``failed`` ones, in the policy's order (the
    first failed channel's list first), each once."""
    found: dict[Channel, None] = {}
    for channel in failed:
        found.update(dict.fromkeys(policy.stand_ins.get(channel, [])))
    return list(found)


def candidates(
    message: PlannedMessage, appointment: Appointment, now: dt.datetime, *,
    undeliverable: Callable[[Channel, str], bool],
) -> list[PlannedMessage]:
    """The fallbacks that may stand in for ``message``'s family once every chosen mode
    failed, best first, due ``now`` (the send step's check places each in its channel's
    hours). Empty when the location has no fallback.

    Parameters:
      message: the message that failed (a planned one, its retry or a fallback).
      appointment: the appointment as stored now.
      now: when the failure was recorded.
      undeliverable: whether an address is known undeliverable on a channel.
    """
    policy = appointment.location.fallback
    if policy is None:
        return []
    failed = [message.channel, *(c for c in appointment.channels() if c is not message.channel)]
    return [
        dataclasses.replace(message, channel=channel, route=Route.FALLBACK,
                            send_at=max(now, message.send_at))
        for channel in stand_ins(policy, failed)
        if fallback_address(appointment, channel, undeliverable=undeliverable) is not None
    ]


def retry_of(message: PlannedMessage, appointment: Appointment,
             now: dt.datetime) -> PlannedMessage | None:
    """The one retry of a call answered busy or not at all, due the location's retry
    delay later (the send step's check places it in calling hours); None for a message
    that is itself a retry or a fallback, or where the location has no fallback."""
    policy = appointment.location.fallback
    if policy is None or message.route is not None or message.channel is not Channel.VOICE:
        return None
    due = now + dt.timedelta(minutes=policy.voice_retry_minutes)
    if due >= message.deadline:
        return None
    return dataclasses.replace(message, route=Route.RETRY, send_at=due)


def family_keys(message: PlannedMessage) -> dict[tuple[Channel, Route | None], str]:
    """The send keys of every message of ``message``'s family, by channel and route."""
    return {
        (channel, route): dataclasses.replace(message, channel=channel, route=route).key
        for channel in Channel for route in (None, Route.RETRY, Route.FALLBACK)
    }


def family_id(message: PlannedMessage) -> str:
    """What names the family in Redis: its send key without channel or route."""
    key = dataclasses.replace(message, channel=Channel.EMAIL, route=None).key
    reference, kind, _channel, *rest = key.split(":")
    return ":".join([reference, kind, *rest])


def message_of_key(
    key: str, *, version: int, state: AppointmentState, deadline: dt.datetime,
    now: dt.datetime,
) -> PlannedMessage | None:
    """The message a send key names, as a status callback finds it (its record keeps
    the version and the deadline); None when the key is not one the gateway writes or
    the reminder it names announces a start that has moved since.

    Parameters:
      key: the send key.
      version: the version the record keeps.
      state: the appointment as stored now.
      deadline: the deadline the record keeps.
      now: stands for the message's due time (a follow-up is due from now).
    """
    slot, _, _suffix = key.rpartition(":")
    try:
        reference, kind, channel, *rest = slot.split(":")
        offset, route = slot_parts(rest)
        message = PlannedMessage(
            reference=reference, kind=Kind(kind), channel=Channel(channel), version=version,
            send_at=now, deadline=deadline, start=state.appointment.start_utc(),
            offset_seconds=offset, route=route,
        )
    except ValueError:
        return None
    return message if message.key == key else None
