"""The schedule ahead, counted per channel and per hour or day, from real intake."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import redis

from notifier.domain import Channel
from notifier.operations.schedule_ahead import (
    bucket_starts,
    due_by_day,
    due_by_hour,
    due_within,
    overdue,
    schedule_size,
)
from notifier.settings import Settings
from notifier.store.intake import Intake
from notifier.store.keys import Keys
from tests.factories import event, local

NOW = local(2026, 11, 24, 10, 15)
TORONTO = ZoneInfo("America/Toronto")


def book(client: redis.Redis, settings: Settings) -> Intake:
    intake = Intake(client, settings)
    starts = [local(2026, 11, 25, 14), local(2026, 11, 27, 9, 30), local(2026, 11, 30, 16)]
    for number, start in enumerate(starts, 1):
        intake.accept(event("booked", start=start, at=NOW, reference=f"{number:010d}",
                            modes=("sms", "email", "voice")), NOW)
    return intake


def expected(intake: Intake, starts: list[dt.datetime]) -> dict[Channel, list[int]]:
    """Count the pending messages into the buckets, the slow way."""
    counts = {c: [0] * (len(starts) - 1) for c in Channel}
    for reference in ("0000000001", "0000000002", "0000000003"):
        for message in intake.schedule.pending(reference):
            for i in range(len(starts) - 1):
                if (i == 0 or starts[i] <= message.send_at) and message.send_at < starts[i + 1]:
                    counts[message.channel][i] += 1
    return counts


def test_due_by_hour_and_day_match_the_pending_messages(redis_client: redis.Redis) -> None:
    settings = Settings(window_sms="always", window_voice="always")
    intake = book(redis_client, settings)

    hourly = due_by_hour(redis_client, settings, NOW, hours=72)
    daily = due_by_day(redis_client, settings, NOW, days=7, tz=TORONTO)

    assert hourly == expected(intake, bucket_starts(NOW, step="hour", count=72))
    assert daily == expected(intake, bucket_starts(NOW, step="day", count=7, tz=TORONTO))
    # Per channel: today the three confirmations and the 1st's J-1 reminder (its J-3 and
    # the 2nd's had passed); the 2nd's J-1 on the 26th; the 3rd's J-3 and J-1.
    assert daily == {channel: [4, 0, 1, 1, 0, 1, 0] for channel in Channel}
    assert schedule_size(redis_client, settings) == {channel: 7 for channel in Channel}


def test_overdue_and_due_within(redis_client: redis.Redis) -> None:
    settings = Settings()
    keys = Keys(settings.queue_prefix)
    redis_client.zadd(keys.schedule("sms"), {
        "a": (NOW - dt.timedelta(minutes=5)).timestamp(),
        "b": NOW.timestamp(),
        "c": (NOW + dt.timedelta(minutes=59)).timestamp(),
        "d": (NOW + dt.timedelta(hours=2)).timestamp(),
    })

    assert overdue(redis_client, settings, NOW) == 1  # "b" is due, not overdue
    assert due_within(redis_client, settings, NOW, dt.timedelta(hours=1)) == 3
    # The first bucket holds the overdue entry; bucket bounds are half-open.
    assert due_by_hour(redis_client, settings, NOW, hours=3)[Channel.SMS] == [2, 1, 1]


def test_buckets_follow_the_zone_clock() -> None:
    # Toronto falls back on 2026-11-01: that day lasts 25 hours.
    days = bucket_starts(local(2026, 10, 31, 12), step="day", count=2, tz=TORONTO)
    assert [d.isoformat() for d in days] == [
        "2026-10-31T00:00:00-04:00", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"]
    # (Subtracting aware times of one zone compares wall clocks: compare instants.)
    assert days[2].timestamp() - days[1].timestamp() == 25 * 3600
    # Newfoundland is half an hour off UTC: its clock hours start at :30 UTC.
    hours = bucket_starts(dt.datetime(2026, 11, 24, 15, 10, tzinfo=dt.UTC), step="hour",
                          count=2, tz=ZoneInfo("America/St_Johns"))
    assert [h.astimezone(dt.UTC).strftime("%H:%M") for h in hours] == ["14:30", "15:30",
                                                                       "16:30"]
    utc = bucket_starts(NOW, step="hour", count=1)
    assert utc[0] == dt.datetime(2026, 11, 24, 15, tzinfo=dt.UTC)
    with pytest.raises(ValueError):
        bucket_starts(NOW, step="hour", count=0)
