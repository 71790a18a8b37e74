"""Sending windows: the local hours in which a channel may reach a patient.

A value type read from the settings (``NOTIFIER_WINDOW_*``) and used by planning: pure,
it imports nothing of the gateway.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# How long before a window closes a message pulled earlier is sent.
LAST_CALL = dt.timedelta(minutes=15)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RULE = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<opens>\d{2}:\d{2})-(?P<closes>\d{2}:\d{2})$"
)


@dataclass(frozen=True)
class DailyHours:
    opens: dt.time
    closes: dt.time


@dataclass(frozen=True)
class SendingWindow:
    """Local opening hours for each weekday (0 = Monday); a missing day is closed.

    ``None`` as a whole window (see :data:`ANY_TIME`) means the channel may send at any time.
    """

    hours: tuple[DailyHours | None, ...] | None

    @classmethod
    def parse(cls, spec: str) -> SendingWindow:
        """Read ``"mon-fri 09:00-21:30; sat-sun 10:00-18:00"`` or ``"always"``.

        Raises ValueError with a sentence naming the part that is wrong.
        """
        spec = spec.strip().lower()
        if spec in ("always", "any", "*"):
            return ANY_TIME
        hours: list[DailyHours | None] = [None] * 7
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            match = _RULE.match(part)
            if not match:
                raise ValueError(
                    f"{part!r} is not a window rule; write it as 'mon-fri 09:00-21:30'"
                )
            first, last = match["first"], match["last"] or match["first"]
            if first not in DAYS or last not in DAYS:
                raise ValueError(f"{part!r}: days are {', '.join(DAYS)}")
            try:
                opens = dt.time.fromisoformat(match["opens"])
                closes = dt.time.fromisoformat(match["closes"])
            except ValueError:
                raise ValueError(f"{part!r}: times are HH:MM between 00:00 and 23:59") from None
            if opens >= closes:
                raise ValueError(f"{part!r}: a window must open before it closes")
            start, end = DAYS.index(first), DAYS.index(last)
            if end < start:
                raise ValueError(f"{part!r}: list days from Monday towards Sunday")
            for day in range(start, end + 1):
                hours[day] = DailyHours(opens, closes)
        if not any(hours):
            raise ValueError("a window must be open on at least one day (or say 'always')")
        return cls(tuple(hours))

    def first_opening(self, at: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        """The earliest instant >= ``at`` inside the window, in UTC.

        Local wall-clock hours are read in ``zone``, so a window keeps its local meaning
        across daylight-saving changes. A wall time skipped by a spring-forward is taken
        with the offset in force before the change (02:30 becomes 03:30).
        """
        at = at.astimezone(dt.UTC)
        if self.hours is None:
            return at
        local_day = at.astimezone(zone).date()
        for offset in range(8):
            day = local_day + dt.timedelta(days=offset)
            daily = self.hours[day.weekday()]
            if daily is None:
                continue
            opens = _instant(day, daily.opens, zone)
            closes = _instant(day, daily.closes, zone)
            if opens >= closes:  # the whole window fell in a spring-forward gap that day
                continue
            if at < opens:
                return opens
            if at < closes:
                return at
        raise AssertionError("a parsed window is open at least one day a week")

    def last_call(self, at: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
        """The latest instant <= ``at`` inside the window on ``at``'s local day, in UTC:
        ``at`` itself when open, else :data:`LAST_CALL` before that day's closing time if
        it has passed; None when the window has not opened yet that day."""
        at = at.astimezone(dt.UTC)
        if self.hours is None:
            return at
        day = at.astimezone(zone).date()
        daily = self.hours[day.weekday()]
        if daily is None:
            return None
        opens = _instant(day, daily.opens, zone)
        closes = _instant(day, daily.closes, zone)
        if opens >= closes or at < opens:
            return None
        if at < closes:
            return at
        return max(opens, closes - LAST_CALL)

    def contains(self, at: dt.datetime, zone: ZoneInfo) -> bool:
        return self.first_opening(at, zone) == at.astimezone(dt.UTC)


ANY_TIME = SendingWindow(None)


def _instant(day: dt.date, wall: dt.time, zone: ZoneInfo) -> dt.datetime:
    """A local wall time on ``day`` as a UTC instant (fold=0: the earlier of two)."""
    return dt.datetime.combine(day, wall, tzinfo=zone).astimezone(dt.UTC)


def place_in_window(
    due: dt.datetime, deadline: dt.datetime, window: SendingWindow, zone: ZoneInfo
) -> dt.datetime | None:
    """When to send a message due at ``due``: the first window instant, or None if that
    is not before ``deadline``."""
    at = window.first_opening(due, zone)
    return at if at < deadline else None
