"""One appointment's story, as an operator looks it up by reference number.

It gathers, in time order:

- ``event``: every event received (its id, type, version, and what intake decided: the
  messages it planned and the pending ones it withdrew, by send key);
- ``version_reset``: an operator set the version held (who, why, from and to);
- ``sent`` / ``suppressed`` / ``failed``: what the send step did with each message;
- ``pending``: messages planned and waiting in the schedule (at their due time);
- ``delivery``: the delivery record of each message key mentioned above (at its last
  change), with its status, attempts and provider code.

A message a scheduler already handed to Dramatiq but that no worker has touched yet has
no record: only its event's line names it. Nothing here is a name, phone number or
email; the appointment's addresses appear masked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from notifier.delivery_status import HANDED_OVER
from notifier.domain import Channel, Kind
from notifier.operations.received_text import Received, received_text
from notifier.planning.entries import AppointmentState
from notifier.privacy import mask_address
from notifier.settings import Settings
from notifier.store.deliveries import DeliveryLog
from notifier.store.history import History
from notifier.store.intake import Intake
from notifier.store.keys import Keys

# Delivery record fields an operator may see (the record holds no address, but a field
# added later should not appear here by accident).
_DELIVERY_FIELDS = ("status", "kind", "channel", "version", "lang", "location", "attempts",
                    "ambiguous", "reason", "error_code", "provider_id", "created_at")
# History line fields shown as details (``at`` and ``what`` are the entry's own).
_HISTORY_FIELDS = ("event_id", "type", "version", "status", "reason", "key", "kind",
                   "channel", "planned", "skipped", "withdrawn", "previous_version", "actor")
_SOURCE_ORDER = {"history": 0, "delivery": 1, "pending": 2}


@dataclass(frozen=True)
class StoryEntry:
    """One line of the story.

    Parameters:
      at: when it happened (aware UTC); for ``pending``, when it is due.
      source: ``history``, ``pending`` or ``delivery``.
      what: ``event``, ``version_reset``, ``sent``, ``suppressed``, ``failed``,
        ``pending`` or ``delivery``.
      key: the message's send key, when the line is about one message.
      details: the line's other fields (codes, kinds, channels, versions, statuses).
    """

    at: dt.datetime
    source: str
    what: str
    key: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.astimezone(dt.UTC).isoformat(), "source": self.source,
                "what": self.what, "key": self.key, "details": self.details}


@dataclass(frozen=True)
class Story:
    """Everything the gateway holds about one appointment, in time order.

    Parameters:
      reference: the appointment's reference number.
      location: its clinic's location id (for clinic-scoped operators); None when the
        gateway no longer holds the appointment and no record names it.
      appointment: the latest snapshot's non-identifying facts (version, status, start,
        its clinic's time zone, attendance, language, modes, masked addresses), or None
        when no longer held.
      entries: the story's lines, oldest first.
      received: send key -> what the patient received, masked (messages handed to a
        provider, while the appointment is held).
    """

    reference: str
    location: str | None
    appointment: dict[str, Any] | None
    entries: list[StoryEntry]
    received: dict[str, Received] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "location": self.location,
                "appointment": self.appointment,
                "entries": [e.to_dict() for e in self.entries]}


def _time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value)).astimezone(dt.UTC)
    except ValueError:
        return None


def appointment_story(redis: Redis, settings: Settings, reference: str) -> Story | None:
    """The story of appointment ``reference``, or None when the gateway knows nothing of it
    (never received, or every trace expired)."""
    keys = Keys(settings.queue_prefix)
    intake = Intake(redis, settings)
    history = History(redis, keys=keys, retention=settings.event_retention)
    deliveries = DeliveryLog.of(redis, settings)

    state = intake.load(reference)
    entries: list[StoryEntry] = []
    mentioned: list[str] = []
    for line in history.read(reference):
        at = _time(line.get("at"))
        if at is None:
            continue
        key = line.get("key")
        for named in (key, *_event_keys(line)):
            if named and named not in mentioned:
                mentioned.append(named)
        entries.append(StoryEntry(
            at=at, source="history", what=str(line.get("what", "")), key=key,
            details={k: line[k] for k in _HISTORY_FIELDS if k in line and k != "key"},
        ))
    for message in intake.schedule.pending(reference):
        if message.key not in mentioned:
            mentioned.append(message.key)
        entries.append(StoryEntry(
            at=message.send_at, source="pending", what="pending", key=message.key,
            details={"kind": str(message.kind), "channel": str(message.channel),
                     "version": message.version,
                     "deadline": message.deadline.isoformat()},
        ))
    locations: list[str] = []
    for key in mentioned:
        record = deliveries.get(key)
        at = _time(record.get("updated_at"))
        if at is None:
            continue
        if record.get("location"):
            locations.append(record["location"])
        entries.append(StoryEntry(
            at=at, source="delivery", what="delivery", key=key,
            details={k: record[k] for k in _DELIVERY_FIELDS if k in record},
        ))
    if state is None and not entries:
        return None
    # At one instant: events first, then each message's lines together, its history
    # line before its delivery record.
    entries.sort(key=lambda e: (e.at, e.key or "", _SOURCE_ORDER[e.source]))
    location = state.appointment.location.id if state else (locations[0] if locations else None)
    return Story(reference=reference, location=location,
                 appointment=None if state is None else _facts(state), entries=entries,
                 received={} if state is None else _received(state, entries, settings))


def _received(state: AppointmentState, entries: list[StoryEntry],
              settings: Settings) -> dict[str, Received]:
    """What each message handed to a provider said, rendered again as of when it went."""
    went: dict[str, dt.datetime] = {}
    for entry in entries:
        handed = (entry.what == "sent" or (
            entry.what == "delivery" and entry.details.get("status") in HANDED_OVER))
        if entry.key and handed and entry.key not in went:
            went[entry.key] = entry.at
    found: dict[str, Received] = {}
    for key, at in went.items():
        parts = key.split(":")
        try:
            kind, channel = Kind(parts[1]), Channel(parts[2])
        except (IndexError, ValueError):
            continue
        received = received_text(state, kind, channel, settings, at)
        if received is not None:
            found[key] = received
    return found


def _event_keys(line: dict[str, Any]) -> list[str]:
    """The send keys an event's line names: planned (a worker may hold one already, with
    a record and no line of its own yet) and withdrawn."""
    planned = [str(item["key"]) for item in line.get("planned") or [] if item.get("key")]
    return planned + [str(key) for key in line.get("withdrawn") or []]


def _facts(state: AppointmentState) -> dict[str, Any]:
    appointment = state.appointment
    patient = appointment.patient
    addresses = {
        Channel.EMAIL: patient.email,
        Channel.SMS: patient.mobile_phone,
        Channel.VOICE: patient.home_phone,
    }
    return {
        "version": state.version,
        "status": str(appointment.status),
        "start": appointment.start_utc().isoformat(),
        "duration_minutes": appointment.duration_minutes,
        "attendance": str(appointment.attendance),
        "location": appointment.location.id,
        # The zone the patient's messages read the start in.
        "time_zone": appointment.location.time_zone,
        "lang": str(patient.language),
        "modes": sorted(str(mode) for mode in patient.modes),
        "addresses": {str(c): mask_address(str(a)) for c, a in addresses.items() if a},
        "cancel_closes_at": state.cancel_closes_at.isoformat(),
    }
