"""Delivery counts summed over the hourly hashes that the delivery log writes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import pytest
import redis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from notifier.channels.twilio_errors import explain
from notifier.domain import Channel, Kind, Lang
from notifier.operations.delivery_stats import (
    deliveries_over_time,
    delivery_counts,
    delivery_rate,
)
from notifier.operations.failure_words import explain_failure
from notifier.planning import reasons
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings
from notifier.store.deliveries import DeliveryLog, DeliveryStatus
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
    log.begin(message, at, fields)
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
