"""The schedule ahead: how many messages are due in each coming hour or day, per channel.

Counts come from ``ZCOUNT`` on each channel's schedule sorted set (scored by due time),
one call per bucket and channel in one round trip: O(log n) each, so a schedule of a
million messages costs the same as one of ten.

Buckets are whole clock hours (or days) in ``tz``, UTC unless given. The first bucket is
the current hour (or day) and also holds anything overdue (due before now but not yet
taken by a scheduler): it is all due now. Messages already claimed by a scheduler or
handed to Dramatiq are no longer in the schedule.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from redis import Redis

from notifier.domain import Channel
from notifier.operations.times import require_aware
from notifier.settings import Settings
from notifier.store.keys import Keys

Step = Literal["hour", "day"]


def bucket_starts(
    now: dt.datetime, *, step: Step, count: int, tz: dt.tzinfo = dt.UTC
) -> list[dt.datetime]:
    """The start of each bucket, aware in ``tz``; one more than ``count`` (the last one
    ends the last bucket). Days follow the zone's calendar, so a day across a DST change
    lasts 23 or 25 hours."""
    if count < 1:
        raise ValueError("count must be 1 or more")
    local = require_aware(now).astimezone(tz)
    if step == "hour":
        # Floor in absolute time: correct for zones offset by half an hour, too.
        first = local.replace(minute=0, second=0, microsecond=0)
        return [(first.astimezone(dt.UTC) + dt.timedelta(hours=i)).astimezone(tz)
                for i in range(count + 1)]
    day = local.date()
    return [dt.datetime.combine(day + dt.timedelta(days=i), dt.time(0), tzinfo=tz)
            for i in range(count + 1)]


def _due(
    redis: Redis, settings: Settings, starts: list[dt.datetime]
) -> dict[Channel, list[int]]:
    keys = Keys(settings.queue_prefix)
    bounds = [start.timestamp() for start in starts]
    with redis.pipeline(transaction=False) as pipe:
        for channel in Channel:
            for index in range(len(bounds) - 1):
                low = "-inf" if index == 0 else bounds[index]
                pipe.zcount(keys.schedule(channel), low, f"({bounds[index + 1]}")
        counts = [int(n) for n in pipe.execute()]
    width = len(bounds) - 1
    return {
        channel: counts[i * width:(i + 1) * width] for i, channel in enumerate(Channel)
    }


def due_by_hour(
    redis: Redis, settings: Settings, now: dt.datetime, hours: int = 24, *,
    tz: dt.tzinfo = dt.UTC,
) -> dict[Channel, list[int]]:
    """Messages due in each of the next ``hours`` clock hours (the current one first,
    with anything overdue), per channel. Bucket starts: ``bucket_starts(now, step="hour",
    count=hours, tz=tz)``."""
    return _due(redis, settings, bucket_starts(now, step="hour", count=hours, tz=tz))


def due_by_day(
    redis: Redis, settings: Settings, now: dt.datetime, days: int = 7, *,
    tz: dt.tzinfo = dt.UTC,
) -> dict[Channel, list[int]]:
    """Messages due on each of the next ``days`` calendar days in ``tz`` (today first,
    with anything overdue), per channel. Bucket starts: ``bucket_starts(now, step="day",
    count=days, tz=tz)``."""
    return _due(redis, settings, bucket_starts(now, step="day", count=days, tz=tz))


def due_within(
    redis: Redis, settings: Settings, now: dt.datetime, within: dt.timedelta
) -> int:
    """Messages due before ``now + within``, overdue ones included, all channels."""
    keys = Keys(settings.queue_prefix)
    until = (require_aware(now) + within).timestamp()
    with redis.pipeline(transaction=False) as pipe:
        for channel in Channel:
            pipe.zcount(keys.schedule(channel), "-inf", f"({until}")
        return sum(int(n) for n in pipe.execute())


def overdue(redis: Redis, settings: Settings, now: dt.datetime) -> int:
    """Messages whose time has come but that no scheduler has taken yet. More than a
    pass's worth for long means the scheduler is not running."""
    return due_within(redis, settings, now, dt.timedelta(0))


def schedule_size(redis: Redis, settings: Settings) -> dict[Channel, int]:
    """Messages waiting in the schedule, per channel (``ZCARD``)."""
    keys = Keys(settings.queue_prefix)
    with redis.pipeline(transaction=False) as pipe:
        for channel in Channel:
            pipe.zcard(keys.schedule(channel))
        return {channel: int(n) for channel, n in zip(Channel, pipe.execute(), strict=True)}
