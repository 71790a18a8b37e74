"""Delivery counts summed over the hourly hashes that the delivery log writes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from notifier.channels.twilio.errors import explain
from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel, Kind, Lang
from notifier.operations.delivery_rate import delivery_rate, rate_across
from notifier.operations.delivery_stats import (
    DeliveryCounts,
    FailureCount,
    deliveries_over_time,
    delivery_counts,
)
from notifier.operations.failure_words import explain_failure
from notifier.operations.hour_cache import HourCache, finished_hours
from notifier.operations.hourly_counts import PERIOD_HOURS, Period, hour_starts, read_hours
from notifier.planning import reasons
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings
from notifier.store.deliveries import DeliveryLog
from notifier.store.keys import Keys

NOW = dt.datetime(2026, 11, 24, 15, 20, tzinfo=dt.UTC)
_keys = itertools.count(1)
S = DeliveryStatus


@pytest.fixture
def log(redis_client: redis.Redis) -> DeliveryLog:
    return DeliveryLog(redis_client, keys=Keys(), retention=dt.timedelta(days=30))


def record(
    log: DeliveryLog, at: dt.datetime, *statuses: DeliveryStatus,
    channel: Channel = Channel.SMS, kind: Kind = Kind.REMINDER, location: str = "plateau",
    lang: str = "fr", error_code: str | None = None, reason: str | None = None,
) -> None:
    """One message going through ``statuses``, each at ``at``."""
    message = PlannedMessage(
        reference=f"{next(_keys):010d}", kind=kind, channel=channel, version=1,
        send_at=at, deadline=at + dt.timedelta(hours=1), start=at + dt.timedelta(days=1),
    )
    fields: dict[str, str | int] = {"lang": lang, "location": location}
    log.advance(message.key, DeliveryStatus.SUBMITTING, at, message=message, fields=fields)
    for status in statuses:
        extra = dict(fields)
        if status in (S.FAILED, S.UNDELIVERED, S.SUPPRESSED):
            extra |= {k: v for k, v in (("error_code", error_code), ("reason", reason)) if v}
        log.advance(message.key, status, at, message=message, fields=extra)


def test_counts_sum_the_hours_of_the_period(log: DeliveryLog, redis_client: redis.Redis) -> None:
    delivered = (S.ACCEPTED, S.SENT, S.DELIVERED)
    record(log, NOW, *delivered)                                   # this hour
    record(log, NOW - dt.timedelta(hours=1), *delivered)           # the previous hour
    record(log, NOW - dt.timedelta(hours=2), *delivered)           # the day only
    record(log, NOW - dt.timedelta(days=3), *delivered)            # the week only
    record(log, NOW - dt.timedelta(days=8), *delivered)            # none

    settings = Settings()
    hour = delivery_counts(redis_client, settings, NOW, "hour")
    day = delivery_counts(redis_client, settings, NOW, "day")
    week = delivery_counts(redis_client, settings, NOW, "week")

    assert hour.by_status == {"accepted": 2, "sent": 2, "delivered": 2}
    assert day.by_status["delivered"] == 3
    assert week.by_status["delivered"] == 4
    assert hour.since == dt.datetime(2026, 11, 24, 14, tzinfo=dt.UTC)
    assert day.since == dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC)
    assert (hour.until, hour.period, hour.delivery_rate) == (NOW, "hour", 1.0)


def test_breakdowns_rate_and_clinic_scope(log: DeliveryLog, redis_client: redis.Redis) -> None:
    record(log, NOW, S.ACCEPTED, S.SENT, S.DELIVERED, lang="en")
    record(log, NOW, S.ACCEPTED, S.UNDELIVERED, error_code="30003")
    record(log, NOW, S.SENT, channel=Channel.EMAIL, kind=Kind.CONFIRMATION)  # SMTP: final
    record(log, NOW, S.FAILED, channel=Channel.EMAIL, error_code="550", location="verdun")
    record(log, NOW, S.SUPPRESSED, reason="opted_out")
    record(log, NOW, S.SUPPRESSED, reason="cancelled", channel=Channel.VOICE)

    counts = delivery_counts(redis_client, Settings(), NOW, "day")

    assert counts.by_channel == {
        "email": {"sent": 1, "failed": 1},
        "sms": {"accepted": 2, "sent": 1, "delivered": 1, "undelivered": 1, "suppressed": 1},
        "voice": {"suppressed": 1},
    }
    assert counts.by_lang["en"] == {"accepted": 1, "sent": 1, "delivered": 1}
    assert counts.by_kind["confirmation"] == {"sent": 1}
    assert counts.by_location["verdun"] == {"failed": 1}
    # Good: the SMS delivered and the email the relay took; ended badly: 30003 and 550.
    assert counts.delivery_rate == 2 / 4
    assert [(f.reason, f.channel, f.status, f.count) for f in counts.failures] == [
        ("30003", "sms", "undelivered", 1), ("550", "email", "failed", 1)]
    unreachable = counts.failures[0]
    assert unreachable.explanation_en == explain(30003, Lang.EN)
    assert unreachable.explanation_fr == explain(30003, Lang.FR)
    assert "550" in counts.failures[1].explanation_en
    assert "boîte aux lettres" in counts.failures[1].explanation_fr
    assert {(s.reason, s.count) for s in counts.suppressions} == {
        ("opted_out", 1), ("cancelled", 1)}

    plateau = delivery_counts(redis_client, Settings(), NOW, "day", location="plateau")
    assert "verdun" not in plateau.by_location
    assert plateau.by_channel["email"] == {"sent": 1}
    assert plateau.to_dict()["location"] == "plateau"


def test_the_rate_is_none_until_something_ends(
    log: DeliveryLog, redis_client: redis.Redis
) -> None:
    record(log, NOW, S.ACCEPTED)
    record(log, NOW, S.SUPPRESSED, reason="cancelled")

    assert delivery_counts(redis_client, Settings(), NOW, "hour").delivery_rate is None
    assert delivery_rate({"sent": 3}, channel="email") == 1.0
    assert delivery_rate({"sent": 3}, channel="sms") is None


def test_failure_reasons_are_explained_in_both_languages() -> None:
    assert explain_failure("21610", "sms", Lang.FR) == explain(21610, Lang.FR)
    assert explain_failure("past_deadline", "sms", Lang.EN) == reasons.describe(
        "past_deadline", Lang.EN)
    assert "courriel" in explain_failure("timeout", "email", Lang.FR)
    assert "retry" in explain_failure("retries_exhausted", "voice", Lang.EN)
    assert "(réponse 599)" in explain_failure("599", "email", Lang.FR)
    assert explain_failure("", "voice", Lang.EN) == "The provider gave no reason."


def test_the_chart_has_one_point_per_hour_the_current_last(
    log: DeliveryLog, redis_client: redis.Redis
) -> None:
    record(log, NOW, S.DELIVERED)
    record(log, NOW - dt.timedelta(hours=3), S.FAILED, reason="provider_permanent")
    record(log, NOW - dt.timedelta(hours=3), S.DELIVERED, location="verdun")

    series = deliveries_over_time(redis_client, Settings(), NOW, hours=6)
    plateau = deliveries_over_time(redis_client, Settings(), NOW, hours=6, location="plateau")

    assert [p.hour.hour for p in series] == [10, 11, 12, 13, 14, 15]
    assert [p.by_status for p in series] == [
        {}, {}, {"delivered": 1, "failed": 1}, {}, {}, {"delivered": 1}]
    assert [p.delivery_rate for p in series] == [None, None, 0.5, None, None, 1.0]
    assert plateau[2].by_status == {"failed": 1}


@hypothesis_settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from([S.DELIVERED, S.FAILED,
                                                               S.SUPPRESSED])),
                max_size=20))
def test_a_day_is_the_sum_of_its_hours(
    redis_client: redis.Redis, log: DeliveryLog, messages: list[tuple[int, DeliveryStatus]]
) -> None:
    redis_client.flushall()  # our own test server: each example starts empty
    for hours_ago, status in messages:
        record(log, NOW - dt.timedelta(hours=hours_ago), status, reason="cancelled")

    day = delivery_counts(redis_client, Settings(), NOW, "day")
    series = deliveries_over_time(redis_client, Settings(), NOW, hours=25)

    summed: Counter[str] = Counter()
    for point in series:
        summed.update(point.by_status)
    assert day.by_status == dict(summed)
    expected = Counter(str(status) for hours_ago, status in messages if hours_ago <= 24)
    assert day.by_status == dict(expected)


# Finished hours kept in memory (finished_hours): never stale, same results as reading afresh.


def uncached_counts(client: redis.Redis, now: dt.datetime, period: Period,
                    location: str | None) -> DeliveryCounts:
    """The counts as first written: every hour read and summed afresh (the oracle)."""
    starts = hour_starts(now, PERIOD_HOURS[period])
    lines = [line for hour in read_hours(client, Settings(), starts) for line in hour
             if location is None or line.location == location]

    def table(dimension: str) -> dict[str, dict[str, int]]:
        counts: dict[str, Counter[str]] = {}
        for line in lines:
            counts.setdefault(getattr(line, dimension), Counter())[line.status] += line.count
        return {name: dict(by_status) for name, by_status in sorted(counts.items())}

    def reasons(*statuses: str) -> list[tuple[str, str, str, int]]:
        totals: Counter[tuple[str, str, str]] = Counter()
        for line in lines:
            if line.status in statuses:
                totals[(line.reason, line.channel, line.status)] += line.count
        return [(*key, count) for key, count in sorted(totals.items(),
                                                       key=lambda kv: (-kv[1], kv[0]))]

    by_status: Counter[str] = Counter()
    for line in lines:
        by_status[line.status] += line.count
    return DeliveryCounts(
        period=period, since=starts[0], until=now, location=location,
        by_status=dict(sorted(by_status.items())), by_channel=table("channel"),
        by_kind=table("kind"), by_lang=table("lang"), by_location=table("location"),
        delivery_rate=rate_across(table("channel")),
        failures=[FailureCount(r, c, s, n, explain_failure(r, c, Lang.EN),
                               explain_failure(r, c, Lang.FR))
                  for r, c, s, n in reasons(S.UNDELIVERED, S.FAILED)],
        suppressions=[FailureCount(r, c, s, n, explain_failure(r, c, Lang.EN),
                                   explain_failure(r, c, Lang.FR))
                      for r, c, s, n in reasons(S.SUPPRESSED)],
    )


def statuses_by_hour(client: redis.Redis, now: dt.datetime, hours: int,
                     location: str | None) -> list[dict[str, int]]:
    """The chart's counts, read afresh (the oracle)."""
    series = []
    for lines in read_hours(client, Settings(), hour_starts(now, hours - 1)):
        counts: Counter[str] = Counter()
        for line in lines:
            if location is None or line.location == location:
                counts[line.status] += line.count
        series.append(dict(sorted(counts.items())))
    return series


def past_the_last_write(client: redis.Redis) -> None:
    """Wait (well under a millisecond) until the Redis clock leaves the millisecond of the
    last write: an hour is not kept when read in the very millisecond it was written."""
    def millisecond() -> int:
        seconds, micros = client.time()
        return int(seconds) * 1000 + int(micros) // 1000

    written = millisecond()
    while millisecond() == written:
        pass


def test_the_current_hour_is_always_read_afresh(
    log: DeliveryLog, redis_client: redis.Redis
) -> None:
    settings = Settings()
    record(log, NOW, S.DELIVERED)
    assert delivery_counts(redis_client, settings, NOW, "hour").by_status == {"delivered": 1}

    record(log, NOW, S.FAILED, reason="provider_permanent")
    later = NOW + dt.timedelta(minutes=30)  # the same hour
    assert delivery_counts(redis_client, settings, later, "hour").by_status == {
        "delivered": 1, "failed": 1}
    assert deliveries_over_time(redis_client, settings, later, hours=1)[0].by_status == {
        "delivered": 1, "failed": 1}


def test_finished_hours_are_parsed_once_then_confirmed(
    log: DeliveryLog, redis_client: redis.Redis
) -> None:
    settings = Settings()
    for hours_ago in range(1, 24):
        record(log, NOW - dt.timedelta(hours=hours_ago), S.DELIVERED)
    record(log, NOW, S.DELIVERED)
    past_the_last_write(redis_client)
    first = delivery_counts(redis_client, settings, NOW, "day")
    parsed = finished_hours.parsed

    again = delivery_counts(redis_client, settings, NOW, "day")
    chart = deliveries_over_time(redis_client, settings, NOW, hours=24)

    assert finished_hours.parsed - parsed == 2  # the current hour, once per call
    assert again == first and again.by_status == {"delivered": 24}
    assert [p.by_status for p in chart] == [{"delivered": 1}] * 24


def test_a_finished_hour_that_changes_is_read_again(
    log: DeliveryLog, redis_client: redis.Redis
) -> None:
    settings = Settings()
    before = NOW - dt.timedelta(hours=1)
    record(log, before, S.DELIVERED)
    assert delivery_counts(redis_client, settings, NOW, "hour").by_status == {"delivered": 1}

    # A worker stamped its count just before the hour turned, or its clock lags.
    record(log, before, S.UNDELIVERED, error_code="30003")
    late = delivery_counts(redis_client, settings, NOW, "hour")
    assert late.by_status == {"delivered": 1, "undelivered": 1}

    # Redis flushed (or restored from an older snapshot), the same hour counted anew.
    redis_client.flushall()
    record(log, before, S.SUPPRESSED, reason="cancelled", location="verdun")
    assert delivery_counts(redis_client, settings, NOW, "hour") == uncached_counts(
        redis_client, NOW, "hour", None)
    assert delivery_counts(redis_client, settings, NOW, "hour").by_status == {"suppressed": 1}
    assert deliveries_over_time(redis_client, settings, NOW, hours=2)[0].by_status == {
        "suppressed": 1}


def test_an_hour_without_expiry_is_never_kept(redis_client: redis.Redis) -> None:
    settings = Settings()
    before = NOW - dt.timedelta(hours=2)
    key = Keys().stats(before.strftime("%Y%m%d%H"))
    redis_client.hset(key, "delivered|sms|reminder|fr|plateau|", 1)  # no expiry: no mark
    assert delivery_counts(redis_client, settings, NOW, "day").by_status == {"delivered": 1}

    redis_client.hincrby(key, "delivered|sms|reminder|fr|plateau|", 1)
    assert delivery_counts(redis_client, settings, NOW, "day").by_status == {"delivered": 2}


def test_the_kept_hours_are_bounded(log: DeliveryLog, redis_client: redis.Redis) -> None:
    cache = HourCache(size=5)
    starts = hour_starts(NOW, 24)
    for start in starts:
        record(log, start, S.DELIVERED)
    past_the_last_write(redis_client)

    first = cache.read(redis_client, Settings(), starts, NOW)
    again = cache.read(redis_client, Settings(), starts[-4:], NOW)

    assert len(cache) == 5
    assert cache.parsed == 25 + 1  # the last 4 kept (the current hour never is)
    assert [h.point(None) for h in again] == [h.point(None) for h in first[-4:]]


LOCATIONS = ("plateau", "verdun|est")  # a location id may hold '|'
steps = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.integers(1, 150)),  # minutes
        st.tuples(st.just("count"), st.sampled_from([S.DELIVERED, S.FAILED, S.SUPPRESSED]),
                  st.sampled_from(LOCATIONS), st.booleans()),  # late: stamped an hour back
        st.tuples(st.just("read"), st.sampled_from(["hour", "day", "week"]),
                  st.sampled_from([None, *LOCATIONS])),
    ),
    max_size=25,
)


@hypothesis_settings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_kept_hours_give_what_reading_afresh_gives(
    redis_client: redis.Redis, log: DeliveryLog, script: list[tuple[Any, ...]]
) -> None:
    redis_client.flushall()  # each example starts empty; kept hours from before are wrong
    settings = Settings()
    now = NOW
    for step in script:
        if step[0] == "wait":
            now += dt.timedelta(minutes=step[1])
        elif step[0] == "count":
            _, status, location, late = step
            at = now - dt.timedelta(hours=1) if late else now
            record(log, at, status, location=location, reason="cancelled",
                   error_code="30003", channel=Channel.SMS)
        else:
            _, period, location = step
            hours = PERIOD_HOURS[period]
            assert delivery_counts(redis_client, settings, now, period, location) == (
                uncached_counts(redis_client, now, period, location))
            chart = deliveries_over_time(redis_client, settings, now, hours, location)
            assert [p.by_status for p in chart] == statuses_by_hour(
                redis_client, now, hours, location)
