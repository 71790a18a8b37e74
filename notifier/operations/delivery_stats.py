"""Delivery counts over the last hour, day or week, from the hourly counts.

The delivery log (:mod:`notifier.store.deliveries`) counts, in one hash per UTC hour
(``<prefix>:stats:<YYYYMMDDHH>``, kept 8 days), each status a message reaches, by
``status|channel|kind|lang|location|reason``. Reading a week is 169 small hashes, not a
scan of the delivery records.

Counts are per status reached, not per message: an SMS that was accepted, sent and
delivered counts once in each of those three statuses. Breakdowns are therefore status
counts per channel (kind, language, clinic), and the delivery rate compares outcomes.

A period of N hours covers the N whole UTC hours before the current one plus the current
hour so far (``since`` says where it starts): hourly buckets cannot be cut at
"exactly 60 minutes ago", and counting the current hour alone would show almost nothing
just after the hour.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import redis

from notifier.domain import Channel, Lang
from notifier.operations.failure_words import explain_failure
from notifier.operations.text import iso, require_aware, text_map
from notifier.settings import Settings
from notifier.store.deliveries import DeliveryStatus
from notifier.store.keys import Keys

Period = Literal["hour", "day", "week"]
PERIOD_HOURS: dict[str, int] = {"hour": 1, "day": 24, "week": 7 * 24}

SUCCESS = DeliveryStatus.DELIVERED
# An SMTP relay gives no delivery receipt: for email, "sent" is the good outcome.
EMAIL_SUCCESS = DeliveryStatus.SENT
PROBLEMS = (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)


@dataclass(frozen=True)
class CountLine:
    """One field of an hourly counts hash, parsed."""

    status: str
    channel: str
    kind: str
    lang: str
    location: str
    reason: str
    count: int

    @classmethod
    def parse(cls, name: str, value: str) -> CountLine:
        parts = name.split("|")
        if len(parts) < 6:  # not written by this version of the gateway
            parts += [""] * (6 - len(parts))
        status, channel, kind, lang = parts[:4]
        # A location id may hold '|'; the other parts never do.
        location = "|".join(parts[4:-1])
        return cls(status, channel, kind, lang, location, parts[-1], int(value))


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
        return {"reason": self.reason, "channel": self.channel, "status": self.status,
                "count": self.count, "explanation_en": self.explanation_en,
                "explanation_fr": self.explanation_fr}


def delivery_rate(by_status: Mapping[str, int], channel: str | None = None) -> float | None:
    """delivered / (delivered + undelivered + failed), or None when nothing ended yet.

    Email's good outcome is ``sent`` (no delivery receipt over SMTP): pass
    ``channel="email"`` for one channel's counts. For counts across channels use
    :func:`rate_across`. Suppressed messages are left out: not sending was right.
    """
    good = by_status.get(SUCCESS, 0)
    if channel == Channel.EMAIL:
        good += by_status.get(EMAIL_SUCCESS, 0)
    ended = good + sum(by_status.get(s, 0) for s in PROBLEMS)
    return None if ended == 0 else good / ended


def rate_across(by_channel: Mapping[str, Mapping[str, int]]) -> float | None:
    """The delivery rate over several channels' status counts."""
    good = ended = 0
    for channel, counts in by_channel.items():
        success = counts.get(SUCCESS, 0)
        if channel == Channel.EMAIL:
            success += counts.get(EMAIL_SUCCESS, 0)
        good += success
        ended += success + sum(counts.get(s, 0) for s in PROBLEMS)
    return None if ended == 0 else good / ended


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period, "since": iso(self.since), "until": iso(self.until),
            "location": self.location, "by_status": self.by_status,
            "by_channel": self.by_channel, "by_kind": self.by_kind, "by_lang": self.by_lang,
            "by_location": self.by_location, "delivery_rate": self.delivery_rate,
            "failures": [f.to_dict() for f in self.failures],
            "suppressions": [s.to_dict() for s in self.suppressions],
        }


def hour_starts(now: dt.datetime, hours: int) -> list[dt.datetime]:
    """The UTC hours counted for a period of ``hours``: that many whole hours before the
    current one, then the current one; oldest first."""
    current = require_aware(now).replace(minute=0, second=0, microsecond=0)
    return [current - dt.timedelta(hours=hours - i) for i in range(hours + 1)]


def read_hours(
    client: redis.Redis, settings: Settings, hours: Iterable[dt.datetime]
) -> list[list[CountLine]]:
    """The parsed counts of each UTC hour given (one round trip)."""
    keys = Keys(settings.queue_prefix)
    with client.pipeline(transaction=False) as pipe:
        for hour in hours:
            pipe.hgetall(keys.stats(hour.astimezone(dt.UTC).strftime("%Y%m%d%H")))
        raw = pipe.execute()
    return [[CountLine.parse(k, v) for k, v in text_map(fields).items()] for fields in raw]


def _nested(lines: Iterable[CountLine], dimension: str) -> dict[str, dict[str, int]]:
    table: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for line in lines:
        table[getattr(line, dimension)][line.status] += line.count
    return {name: dict(counts) for name, counts in sorted(table.items())}


def _reasons(lines: Iterable[CountLine], statuses: Iterable[str]) -> list[FailureCount]:
    wanted = set(statuses)
    totals: Counter[tuple[str, str, str]] = Counter()
    for line in lines:
        if line.status in wanted:
            totals[(line.reason, line.channel, line.status)] += line.count
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return [
        FailureCount(reason=reason, channel=channel, status=status, count=count,
                     explanation_en=explain_failure(reason, channel, Lang.EN),
                     explanation_fr=explain_failure(reason, channel, Lang.FR))
        for (reason, channel, status), count in ordered
    ]


def delivery_counts(
    client: redis.Redis,
    settings: Settings,
    now: dt.datetime,
    period: Period,
    location: str | None = None,
) -> DeliveryCounts:
    """Delivery counts over the last ``period``, for one clinic or all of them."""
    if period not in PERIOD_HOURS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_HOURS)}")
    starts = hour_starts(now, PERIOD_HOURS[period])
    lines = [
        line for hour in read_hours(client, settings, starts) for line in hour
        if location is None or line.location == location
    ]
    by_status: Counter[str] = Counter()
    for line in lines:
        by_status[line.status] += line.count
    by_channel = _nested(lines, "channel")
    return DeliveryCounts(
        period=period,
        since=starts[0],
        until=require_aware(now),
        location=location,
        by_status=dict(sorted(by_status.items())),
        by_channel=by_channel,
        by_kind=_nested(lines, "kind"),
        by_lang=_nested(lines, "lang"),
        by_location=_nested(lines, "location"),
        delivery_rate=rate_across(by_channel),
        failures=_reasons(lines, PROBLEMS),
        suppressions=_reasons(lines, (DeliveryStatus.SUPPRESSED,)),
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
    client: redis.Redis,
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
    for start, lines in zip(starts, read_hours(client, settings, starts), strict=True):
        kept = [line for line in lines if location is None or line.location == location]
        by_status: Counter[str] = Counter()
        for line in kept:
            by_status[line.status] += line.count
        series.append(HourCount(hour=start, by_status=dict(sorted(by_status.items())),
                                delivery_rate=rate_across(_nested(kept, "channel"))))
    return series
