"""The values that flow between planning, the schedule and the send step.

All times here are aware UTC datetimes. Each value has a packed form that Redis and the
Dramatiq messages carry (short names, times as epoch seconds), and reads back the
verbose JSON written before that form as well: entries, states and queued messages
written by an older gateway stay readable for as long as they are kept.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from notifier.domain import STORED, Appointment, Channel, Kind
from notifier.planning.reasons import Reason


def _utc(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _stamp(value: dt.datetime) -> int | float:
    """Epoch seconds: an integer for a whole second, else a float that reads back to the
    same microsecond (:func:`_at`)."""
    seconds = value.timestamp()
    return int(seconds) if seconds.is_integer() else seconds


def _at(stamp: int | float) -> dt.datetime:
    return dt.datetime.fromtimestamp(stamp, dt.UTC)


def _compact(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# The first byte of a state stored as JSON, before states were packed; a packed state is
# a zlib stream, whose first byte is never this one.
_JSON_START = ord("{")


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

    def packed(self) -> bytes:
        """The stored form: compact JSON (``a`` the snapshot without its empty fields,
        ``v`` the version, ``c`` and ``t`` the two times in epoch seconds, ``p`` the
        plan versions by slot), compressed with zlib.
        The snapshot is most of it, and its text (names, address, paragraphs) compresses
        to about half."""
        data: dict[str, Any] = {
            "a": self.appointment.model_dump(mode="json", exclude_none=True),
            "v": self.version,
            "c": _stamp(self.cancel_closes_at),
            "p": dict(self.planned),
        }
        if self.attendance_set_at is not None:
            data["t"] = _stamp(self.attendance_set_at)
        return zlib.compress(_compact(data).encode())

    @classmethod
    def from_json(cls, raw: str | bytes) -> AppointmentState:
        """Read a stored state: the packed form (:meth:`packed`) or the JSON written
        before it."""
        data = raw.encode() if isinstance(raw, str) else raw
        if data[:1] != bytes([_JSON_START]):
            return cls._unpacked(json.loads(zlib.decompress(data)))
        old = json.loads(data)
        closes = _utc(old["cancel_closes_at"])
        assert closes is not None
        return cls(
            appointment=Appointment.model_validate(old["appointment"], context=STORED),
            version=int(old["version"]),
            cancel_closes_at=closes,
            attendance_set_at=_utc(old["attendance_set_at"]),
            planned={str(k): int(v) for k, v in old.get("planned", {}).items()},
        )

    @classmethod
    def _unpacked(cls, data: dict[str, Any]) -> AppointmentState:
        set_at = data.get("t")
        return cls(
            appointment=Appointment.model_validate(data["a"], context=STORED),
            version=int(data["v"]),
            cancel_closes_at=_at(data["c"]),
            attendance_set_at=None if set_at is None else _at(set_at),
            planned={str(k): int(v) for k, v in data["p"].items()},
        )


def send_key(slot: str, kind: Kind, *, version: int, start: dt.datetime) -> str:
    """The send key of the message of ``kind`` in schedule ``slot``, planned for appointment
    ``version`` and ``start`` (see :attr:`PlannedMessage.key`)."""
    if kind is Kind.REMINDER:
        return f"{slot}:{start.astimezone(dt.UTC):%Y%m%dT%H%MZ}"
    return f"{slot}:v{version}"


def pending_key(state: AppointmentState, slot: str) -> str | None:
    """The send key of the message waiting in ``slot`` while ``state`` is the one stored:
    a reminder announces the state's start (an event that moves it plans every reminder
    again), another kind was planned for the version ``state.planned`` holds. None when
    the slot names no kind, or its version was planned before versions were kept.

    Parameters:
      state: the appointment's stored state.
      slot: a schedule slot of that appointment.
    """
    parts = slot.split(":")
    try:
        kind = Kind(parts[1])
    except (IndexError, ValueError):
        return None
    version = state.planned.get(slot)
    if kind is not Kind.REMINDER and version is None:
        return None
    return send_key(slot, kind, version=version or state.version,
                    start=state.appointment.start_utc())


class Route(enum.StrEnum):
    """How a message that is not the planned one came to be (see
    :mod:`notifier.planning.fallback`): it rides in its slot after the channel."""

    # Another channel, or another address of a chosen one, after every chosen mode failed.
    FALLBACK = "fallback"
    # A call answered busy or not at all, tried once more.
    RETRY = "retry"


def slot_parts(rest: list[str]) -> tuple[int | None, Route | None]:
    """The offset and the route a slot names after its channel."""
    offset = next((int(part) for part in rest if part.isdigit()), None)
    route = next((Route(part) for part in rest if not part.isdigit()), None)
    return offset, route


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
      route: None for a planned message; a fallback or a call's retry otherwise (its
        slot, and so its send key, end with the route's word).
    """

    reference: str
    kind: Kind
    channel: Channel
    version: int
    send_at: dt.datetime
    deadline: dt.datetime
    start: dt.datetime
    offset_seconds: int | None = None
    route: Route | None = None

    @property
    def slot(self) -> str:
        """The schedule member: a newer plan for the same slot replaces a pending one."""
        base = f"{self.reference}:{self.kind}:{self.channel}"
        if self.offset_seconds is not None:
            base = f"{base}:{self.offset_seconds}"
        return base if self.route is None else f"{base}:{self.route}"

    @property
    def key(self) -> str:
        """The send key: the gateway sends at most one message per key.

        A reminder is keyed by the start it announces, not by version: an event that does
        not move the appointment plans the same reminder again under the same key.
        """
        return send_key(self.slot, self.kind, version=self.version, start=self.start)

    def to_dict(self) -> dict[str, Any]:
        """The verbose form, as the schedule and the ``send_message`` messages carried it
        before the packed one (:meth:`to_json`)."""
        return {
            "reference": self.reference,
            "kind": str(self.kind),
            "channel": str(self.channel),
            "version": self.version,
            "send_at": _iso(self.send_at),
            "deadline": _iso(self.deadline),
            "start": _iso(self.start),
            "offset_seconds": self.offset_seconds,
            **({} if self.route is None else {"route": str(self.route)}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlannedMessage:
        """Read either form: the packed one (``s`` the slot, which names the reference,
        kind, channel, offset and route; ``v``, ``t``, ``d``, ``a``: see
        :meth:`pending_value`) or the verbose one (:meth:`to_dict`)."""
        if "s" in data:
            reference, kind, channel, *rest = str(data["s"]).split(":")
            offset, route = slot_parts(rest)
            return cls(
                reference=reference,
                kind=Kind(kind),
                channel=Channel(channel),
                version=int(data["v"]),
                send_at=_at(data["t"]),
                deadline=_at(data["d"]),
                start=_at(data["a"]),
                offset_seconds=offset,
                route=route,
            )
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
            route=Route(data["route"]) if data.get("route") else None,
        )

    def pending_value(self) -> str:
        """What the pending hash keeps under the slot, which says the rest: ``v`` the
        version, ``t`` when to send, ``d`` the deadline, ``a`` the appointment start, in
        epoch seconds. Short enough for Redis to keep an appointment's few entries in one
        compact listpack rather than a hash table."""
        return _compact({"v": self.version, "t": _stamp(self.send_at),
                         "d": _stamp(self.deadline), "a": _stamp(self.start)})

    def to_json(self) -> str:
        """The packed form: the claimed entry, and the ``send_message`` payload the
        hand-off copies from it. It is :meth:`pending_value` with the slot in front, byte
        for byte as ``schedule_claim`` joins them."""
        return f'{{"s":{json.dumps(self.slot)},{self.pending_value()[1:]}'

    @classmethod
    def from_json(cls, raw: str | bytes) -> PlannedMessage:
        return cls.from_dict(json.loads(raw))

    @classmethod
    def from_pending(cls, slot: str, raw: str | bytes) -> PlannedMessage:
        """Read what the pending hash holds under ``slot``: a :meth:`pending_value`, or
        the verbose JSON written before it."""
        data = json.loads(raw)
        return cls.from_dict(data if "reference" in data else {"s": slot, **data})


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
      withdrawn: the send keys of the pending messages this plan takes back: those of the
        removed slots, and those replaced by a message under another key.
    """

    state: AppointmentState
    upserts: tuple[PlannedMessage, ...] = ()
    removals: frozenset[str] = field(default_factory=frozenset)
    skipped: tuple[Skipped, ...] = ()
    withdrawn: tuple[str, ...] = ()
