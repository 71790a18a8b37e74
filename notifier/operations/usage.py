"""Each clinic's usage per day: SMS segments, calls and emails handed to providers.

Read from the hourly usage hashes (:mod:`notifier.store.usage`); a day is a calendar day
in the zone the reader asks for, made of the UTC hours that fall in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from redis import Redis

from notifier.domain import Channel
from notifier.operations.times import require_aware
from notifier.settings import Settings
from notifier.store.decoding import text_map
from notifier.store.keys import Keys
from notifier.store.usage import hour_label

# Kept 35 days; a month and its first days are enough to read back.
MAX_DAYS = 31
CHANNELS = (Channel.SMS, Channel.VOICE, Channel.EMAIL)


@dataclass(frozen=True)
class DayUsage:
    """One clinic's usage on one day.

    Parameters:
      day: the calendar day, in the reader's zone.
      location: the clinic's location id.
      units: channel -> SMS segments, calls or emails.
    """

    day: dt.date
    location: str
    units: Mapping[Channel, int]

    def of(self, channel: Channel) -> int:
        return self.units.get(channel, 0)


def day_hours(today: dt.date, days: int, zone: ZoneInfo) -> list[tuple[dt.date, dt.datetime]]:
    """Each UTC hour of the ``days`` calendar days ending with ``today`` in ``zone``, with
    the day it falls in; a day of a clock change has 23 or 25 of them."""
    first = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    hours: list[tuple[dt.date, dt.datetime]] = []
    at = start
    while at < end:
        hours.append((at.astimezone(zone).date(), at))
        at += dt.timedelta(hours=1)
    return hours


def sum_days(hours: Sequence[tuple[dt.date, Mapping[str, str]]], *,
             location: str | None) -> list[DayUsage]:
    """The hours' usage fields (``location|channel`` -> units) summed per day and clinic,
    newest day first then by clinic.

    Parameters:
      hours: each hour's day and fields.
      location: only this clinic's (None: every clinic's).
    """
    totals: dict[tuple[dt.date, str], dict[Channel, int]] = {}
    for day, fields in hours:
        for name, value in fields.items():
            where, _, channel_name = name.rpartition("|")
            if location is not None and where != location:
                continue
            try:
                channel = Channel(channel_name)
                units = int(value)
            except ValueError:
                continue
            row = totals.setdefault((day, where), {})
            row[channel] = row.get(channel, 0) + units
    return [DayUsage(day, where, units)
            for (day, where), units in sorted(totals.items(),
                                              key=lambda item: (-item[0][0].toordinal(),
                                                                item[0][1]))]


def read_usage(redis: Redis, settings: Settings, now: dt.datetime, *, days: int,
               zone: ZoneInfo, location: str | None) -> list[DayUsage]:
    """Usage per clinic and day over the ``days`` days ending today in ``zone`` (one round
    trip).

    Parameters:
      now: the current time (aware).
      days: how many days (1 to :data:`MAX_DAYS`).
      zone: the zone whose calendar days are counted.
      location: only this clinic's (None: every clinic's).
    """
    days = min(max(days, 1), MAX_DAYS)
    hours = day_hours(require_aware(now).astimezone(zone).date(), days, zone)
    keys = Keys(settings.queue_prefix)
    with redis.pipeline(transaction=False) as pipe:
        for _, at in hours:
            pipe.hgetall(keys.usage(hour_label(at)))
        raw = pipe.execute()
    return sum_days([(day, text_map(fields)) for (day, _), fields in zip(hours, raw, strict=True)],
                    location=location)
