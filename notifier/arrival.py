"""When an event arrives: the window around that time its dates must fall in.

A door (``POST /v1/events``, the ``intake_event`` actor,
:class:`notifier.event_sender.EventSender`) validates an event with
``context=Arrival(now)``. A date far from ``now`` is a booking system's mistake (a
placeholder such as 0001-01-01 or 9999-12-31, a swapped field), and at the calendar's
edges it would overflow once converted to another time zone. Snapshots the gateway stored
itself are read back with :data:`notifier.domain.STORED`: the window held when they
arrived.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationInfo


class DestinationCheck(Protocol):
    """Whether a number may be texted or called (see :mod:`notifier.destinations`)."""

    def refusal(self, number: str, *, texted: bool = ...) -> str | None: ...


@dataclass(frozen=True)
class Arrival:
    """The validation context of an event at a door.

    Parameters:
      now: when the event arrived (aware).
      destinations: the deployment's destination policy, checked on the patient's numbers
        by the gateway's own doors; None where the policy is not known (a booking
        system's :class:`notifier.event_sender.EventSender`).
    """

    now: dt.datetime
    destinations: DestinationCheck | None = None


@dataclass(frozen=True)
class DateWindow:
    """How far before and after its arrival a date of an event may lie.

    Parameters:
      before: the furthest in the past.
      after: the furthest in the future.
      words: the window in words, for the refusal.
    """

    before: dt.timedelta
    after: dt.timedelta
    words: str

    def check(self, value: dt.datetime, info: ValidationInfo) -> dt.datetime:
        """``value`` unchanged, or a ``ValueError`` naming the window (never the value)
        when it falls outside; no check without an :class:`Arrival` context."""
        arrival = info.context
        if not isinstance(arrival, Arrival):
            return value
        now = arrival.now.astimezone(dt.UTC)
        try:
            # A local time without offset is compared as if it were UTC: the zones are
            # within a day of UTC, nothing next to windows of a year.
            when = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(
                dt.UTC)
            inside = now - self.before <= when <= now + self.after
        except OverflowError:  # 0001-01-01 with a positive offset, 9999-12-31 with a negative
            inside = False
        if not inside:
            raise ValueError(f"must fall between {self.words} the moment the gateway "
                             "receives the event")
        return value


# Appointments are booked up to two years ahead; events about one a year past are late
# attendance corrections at most.
START_WINDOW = DateWindow(
    before=dt.timedelta(days=366), after=dt.timedelta(days=731),
    words="one year before and two years after",
)
# When something happened (the event, the attendance being set): in the past, allowing a
# day for a booking system's wrong clock or time zone.
MOMENT_WINDOW = DateWindow(
    before=dt.timedelta(days=366), after=dt.timedelta(days=1),
    words="one year before and one day after",
)
