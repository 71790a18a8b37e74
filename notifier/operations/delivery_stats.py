"""Delivery counts over the last hour, day or week, from the hourly counts.

Counts are per status reached, not per message: an SMS that was accepted, sent and
delivered counts once in each of those three statuses. Breakdowns are therefore status
counts per channel (kind, language, clinic), and the delivery rate compares outcomes
(:mod:`notifier.operations.delivery_rate`).

The counts are the delivery log's hourly hashes (:mod:`notifier.operations.hourly_counts`).
Finished hours are parsed once per process (:data:`~notifier.operations.hour_cache.finished_hours`)
and a period's finished hours summed once until one of them changes
(:data:`~notifier.operations.tally_sums.finished_sums`, every hour, as the period moves);
the current hour is always read afresh.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Lang
from notifier.operations.delivery_rate import PROBLEMS, rate_across
from notifier.operations.failure_words import explain_failure
from notifier.operations.hour_cache import finished_hours
from notifier.operations.hourly_counts import (
    PERIOD_HOURS,
    Period,
    add_tally,
    hour_starts,
    read_redundant,
    unfold,
)
from notifier.operations.tally_sums import finished_sums
from notifier.operations.times import iso, require_aware
from notifier.settings import Settings


@dataclass(frozen=True)
class FailureCount:
    """How many messages ended undelivered or failed (or were suppressed) for one reason.

    Parameters:
      reason: the provider's code (Twilio, SMTP) or the gateway's reason code.
      channel: the channel it happened on.
      status: ``failed``, ``undelivered`` or ``suppressed``.
      count: how many.
      explanation_en, explanation_fr: what it means, for operators.
    """

    reason: str
    channel: str
    status: str
    count: int
    explanation_en: str
    explanation_fr: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DeliveryCounts:
    """What became of messages over a period.

    Parameters:
      period: ``hour``, ``day`` or ``week``.
      since: the start of the oldest hour counted (aware UTC).
      until: ``now``.
      location: the clinic (location id) counted, or None for all.
      by_status: how many reached each status.
      by_channel, by_kind, by_lang, by_location: status counts per channel, kind,
        language, clinic.
      delivery_rate: delivered / (delivered + undelivered + failed), email's ``sent``
        counting as delivered; None when nothing ended.
      failures: undelivered and failed messages by reason and channel, most first.
      suppressions: suppressed messages by reason and channel, most first.
      fallback_redundant: per channel, messages delivered late after their fallback was
        sent; not a status, so in none of the counts above.
    """

    period: str
    since: dt.datetime
    until: dt.datetime
    location: str | None
    by_status: dict[str, int]
    by_channel: dict[str, dict[str, int]]
    by_kind: dict[str, dict[str, int]]
    by_lang: dict[str, dict[str, int]]
    by_location: dict[str, dict[str, int]]
    delivery_rate: float | None
    failures: list[FailureCount] = field(default_factory=list)
    suppressions: list[FailureCount] = field(default_factory=list)
    fallback_redundant: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period, "since": iso(self.since), "until": iso(self.until),
            "location": self.location, "by_status": self.by_status,
            "by_channel": self.by_channel, "by_kind": self.by_kind, "by_lang": self.by_lang,
            "by_location": self.by_location, "delivery_rate": self.delivery_rate,
            "failures": [f.to_dict() for f in self.failures],
            "suppressions": [s.to_dict() for s in self.suppressions],
            "fallback_redundant": self.fallback_redundant,
        }


def _failures(reasons: Mapping[tuple[str, str, str], int],
              statuses: Iterable[str]) -> list[FailureCount]:
    """The counts of ``statuses`` by reason and channel, most first, explained."""
    wanted = set(statuses)
    chosen = sorted(((key, count) for key, count in reasons.items() if key[2] in wanted),
                    key=lambda item: (-item[1], item[0]))
    return [
        FailureCount(reason=reason, channel=channel, status=status, count=count,
                     explanation_en=explain_failure(reason, channel, Lang.EN),
                     explanation_fr=explain_failure(reason, channel, Lang.FR))
        for (reason, channel, status), count in chosen
    ]


def delivery_counts(
    redis: Redis,
    settings: Settings,
    now: dt.datetime,
    period: Period,
    location: str | None = None,
) -> DeliveryCounts:
    """Delivery counts over the last ``period``, for one clinic or all of them."""
    if period not in PERIOD_HOURS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_HOURS)}")
    starts = hour_starts(now, PERIOD_HOURS[period])
    *before, current = finished_hours.read(redis, settings, starts, now)
    total = dict(finished_sums.total(before, location))
    add_tally(total, current.tally(location))
    by_status, tables, reasons = unfold(total)
    return DeliveryCounts(
        period=period,
        since=starts[0],
        until=require_aware(now),
        location=location,
        by_status=by_status,
        by_channel=tables["channel"],
        by_kind=tables["kind"],
        by_lang=tables["lang"],
        by_location=tables["location"],
        delivery_rate=rate_across(tables["channel"]),
        failures=_failures(reasons, PROBLEMS),
        suppressions=_failures(reasons, (DeliveryStatus.SUPPRESSED,)),
        fallback_redundant=read_redundant(redis, settings, starts, location=location),
    )


@dataclass(frozen=True)
class HourCount:
    """One UTC hour's counts, for a chart.

    Parameters:
      hour: the hour's start (aware UTC).
      by_status: how many reached each status in that hour.
      delivery_rate: as in :class:`DeliveryCounts`, for that hour alone.
    """

    hour: dt.datetime
    by_status: dict[str, int]
    delivery_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"hour": iso(self.hour), "by_status": self.by_status,
                "delivery_rate": self.delivery_rate}


def deliveries_over_time(
    redis: Redis,
    settings: Settings,
    now: dt.datetime,
    hours: int = 24,
    location: str | None = None,
) -> list[HourCount]:
    """Counts for each of the last ``hours`` UTC hours, the current one last (so far)."""
    if hours < 1:
        raise ValueError("hours must be 1 or more")
    starts = hour_starts(now, hours - 1)
    series = []
    for start, hour in zip(starts, finished_hours.read(redis, settings, starts, now),
                           strict=True):
        by_status, rate = hour.point(location)
        series.append(HourCount(hour=start, by_status=dict(by_status), delivery_rate=rate))
    return series
