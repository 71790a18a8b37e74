"""Outcome figures per clinic and month: delivery rate by channel, opt-outs, and the
no-show rate of appointments whose patient a reminder reached against those it did not.

The counts come from one small hash per clinic and month, written in the same step as
what they count (the delivery scripts, the opt-out script, intake's attendance writes:
see :mod:`notifier.store.attendance_counts`). Deliveries and opt-outs count in the UTC
month they happened; attendance in the month of the appointment's start, in the clinic's
zone. :func:`figures` is pure; :func:`read_outcomes` is one round trip.

Counts from 1 to 4 are never shown as such (nor any rate computed from fewer than 5), so
that a small clinic's figures cannot point to a patient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from redis import Redis

from notifier.domain import Channel
from notifier.store.decoding import text_map
from notifier.store.keys import Keys

SMALL = 5  # counts below this (but above 0) are shown as "< 5"
REACHES = ("reached", "unreached")


@dataclass(frozen=True)
class Ratio:
    """A part of a whole (delivered of ended, absent of known attendance...).

    Parameters:
      part: how many had the outcome.
      whole: how many could have.
    """

    part: int
    whole: int

    @property
    def small(self) -> bool:
        """Whether the part, or what is left of the whole, is 1 to 4: a rate would let
        someone work out a count that could point to a patient."""
        rest = self.whole - self.part
        return 0 < self.part < SMALL or 0 < rest < SMALL

    @property
    def rate(self) -> float | None:
        """``part / whole``, or None when it is :attr:`small` (too few to show without
        pointing to someone)."""
        return None if self.small or not self.whole else self.part / self.whole


@dataclass(frozen=True)
class MonthFigures:
    """One clinic's figures for one month.

    Parameters:
      location, month: which clinic (location id) and month (``YYYY-MM``).
      delivered: per channel, messages delivered (by email: sent) of those that ended.
      opt_outs: numbers the clinic wrote to that opted out, of the texts and calls it
        delivered.
      no_show: per reach (``reached``, ``unreached``), appointments missed of those whose
        attendance is known.
    """

    location: str
    month: str
    delivered: dict[str, Ratio]
    opt_outs: Ratio
    no_show: dict[str, Ratio]

    @property
    def empty(self) -> bool:
        return not (any(r.whole for r in self.delivered.values()) or self.opt_outs.part
                    or any(r.whole for r in self.no_show.values()))


def figures(location: str, month: str, counts: Mapping[str, int]) -> MonthFigures:
    """The figures of one outcome hash's ``counts``.

    Parameters:
      location, month: whose hash it is.
      counts: its fields (``delivery|sms|delivered``, ``optout|sms``,
        ``attendance|reached|absent``...) and values.
    """

    def count(*parts: str) -> int:
        return max(0, int(counts.get("|".join(parts), 0)))

    delivered = {}
    for channel in (str(c) for c in Channel):
        ok = count("delivery", channel, "delivered")
        if channel == str(Channel.EMAIL):
            ok += count("delivery", channel, "sent")  # a relay gives no delivery receipt
        ended = ok + count("delivery", channel, "undelivered") + count(
            "delivery", channel, "failed")
        delivered[channel] = Ratio(ok, ended)
    phoned = sum(delivered[str(c)].part for c in (Channel.SMS, Channel.VOICE))
    opt_outs = Ratio(count("optout", str(Channel.SMS)) + count("optout", str(Channel.VOICE)),
                     phoned)
    no_show = {reach: Ratio(count("attendance", reach, "absent"),
                            count("attendance", reach, "absent")
                            + count("attendance", reach, "present"))
               for reach in REACHES}
    return MonthFigures(location, month, delivered, opt_outs, no_show)


def months_back(now: dt.datetime, *, count: int, zone: dt.tzinfo) -> list[str]:
    """The ``count`` months up to ``now``'s (in ``zone``), newest first, as ``YYYY-MM``."""
    local = now.astimezone(zone)
    year, month = local.year, local.month
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


def read_outcomes(redis: Redis, *, keys: Keys, locations: Iterable[str],
                  months: Iterable[str]) -> list[MonthFigures]:
    """The figures of each of ``locations`` for each of ``months`` (one round trip);
    clinic-months with nothing counted are left out."""
    wanted = [(location, month) for location in locations for month in months]
    with redis.pipeline(transaction=False) as pipe:
        for location, month in wanted:
            pipe.hgetall(keys.outcomes(location, month))
        hashes = pipe.execute()
    found = []
    for (location, month), raw in zip(wanted, hashes, strict=True):
        counts = {name: int(value) for name, value in text_map(raw).items()}
        month_figures = figures(location, month, counts)
        if not month_figures.empty:
            found.append(month_figures)
    return found
