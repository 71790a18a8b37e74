"""The values that flow between planning, the schedule and the send step.

All times here are aware UTC datetimes. Each value turns into JSON and back so that the
schedule and the Dramatiq messages can carry it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from notifier.domain import STORED, Appointment, Channel, Kind
from notifier.planning.reasons import Reason


def _utc(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


@dataclass(frozen=True)
class AppointmentState:
    """What the gateway remembers of an appointment.

    Parameters:
      appointment: the latest snapshot applied.
      version: that snapshot's version; older events are ignored.
      cancel_closes_at: when online cancellation closes: the start minus the notice the
        location required when the appointment was first seen (the notice keeps its
        first value even if the location or its policy changes later).
      attendance_set_at: when attendance was last set (starts the no-show delay).
      planned: for each schedule slot other than reminders, the version of its latest
        plan. A message handed off for an older version is superseded by a newer one.
    """

    appointment: Appointment
    version: int
    cancel_closes_at: dt.datetime
    attendance_set_at: dt.datetime | None = None
    planned: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "appointment": self.appointment.model_dump(mode="json"),
                "version": self.version,
                "cancel_closes_at": _iso(self.cancel_closes_at),
                "attendance_set_at": _iso(self.attendance_set_at),
                "planned": dict(self.planned),
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> AppointmentState:
        data = json.loads(raw)
        closes = _utc(data["cancel_closes_at"])
        assert closes is not None
        return cls(
            appointment=Appointment.model_validate(data["appointment"], context=STORED),
            version=int(data["version"]),
            cancel_closes_at=closes,
            attendance_set_at=_utc(data["attendance_set_at"]),
            planned={str(k): int(v) for k, v in data.get("planned", {}).items()},
        )


@dataclass(frozen=True)
class PlannedMessage:
    """One message the gateway means to send.

    Parameters:
      reference: the appointment's reference number.
      kind, channel: what and how.
      version: the appointment version the message was planned for.
      send_at: when to hand it to the channel (already inside the channel's window).
      deadline: it is not sent at or after this instant.
      start: the appointment start the message was planned for.
      offset_seconds: for a reminder, how long before the start it is due.
    """

    reference: str
    kind: Kind
    channel: Channel
    version: int
    send_at: dt.datetime
    deadline: dt.datetime
    start: dt.datetime
    offset_seconds: int | None = None

    @property
    def slot(self) -> str:
        """The schedule member: a newer plan for the same slot replaces a pending one."""
        base = f"{self.reference}:{self.kind}:{self.channel}"
        return base if self.offset_seconds is None else f"{base}:{self.offset_seconds}"

    @property
    def key(self) -> str:
        """The send key: the gateway sends at most one message per key.

        A reminder is keyed by the start it announces, not by version: an event that does
        not move the appointment plans the same reminder again under the same key.
        """
        if self.kind is Kind.REMINDER:
            return f"{self.slot}:{self.start.astimezone(dt.UTC):%Y%m%dT%H%MZ}"
        return f"{self.slot}:v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "kind": str(self.kind),
            "channel": str(self.channel),
            "version": self.version,
            "send_at": _iso(self.send_at),
            "deadline": _iso(self.deadline),
            "start": _iso(self.start),
            "offset_seconds": self.offset_seconds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlannedMessage:
        send_at, deadline = _utc(data["send_at"]), _utc(data["deadline"])
        start = _utc(data["start"])
        assert send_at is not None and deadline is not None and start is not None
        return cls(
            reference=str(data["reference"]),
            kind=Kind(data["kind"]),
            channel=Channel(data["channel"]),
            version=int(data["version"]),
            send_at=send_at,
            deadline=deadline,
            start=start,
            offset_seconds=data.get("offset_seconds"),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, raw: str | bytes) -> PlannedMessage:
        return cls.from_dict(json.loads(raw))


@dataclass(frozen=True)
class Skipped:
    """A message the gateway decided not to send, and why."""

    reference: str
    kind: Kind
    channel: Channel | None
    reason: Reason
    version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "channel": None if self.channel is None else str(self.channel),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Plan:
    """What one event changes.

    Parameters:
      state: the appointment state to store.
      upserts: messages to add to the schedule (replacing any pending one in the same slot).
      removals: schedule slots of this appointment to withdraw.
      skipped: messages decided against, with their reasons.
    """

    state: AppointmentState
    upserts: tuple[PlannedMessage, ...] = ()
    removals: frozenset[str] = field(default_factory=frozenset)
    skipped: tuple[Skipped, ...] = ()
