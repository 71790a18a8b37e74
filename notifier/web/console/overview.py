"""What the overview page shows: queues, the schedule ahead, deliveries and failures.

:func:`read_overview` gathers the numbers (a handful of Redis round trips, none of which
grows with the number of records: see ``bench/console_bench.py``); :func:`overview_view`
turns them into tables and charts in the operator's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from redis import Redis

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel
from notifier.operations.clinic_ahead import ClinicAhead, clinic_ahead
from notifier.operations.delivery_stats import (
    DeliveryCounts,
    HourCount,
    deliveries_over_time,
    delivery_counts,
)
from notifier.operations.hourly_counts import PERIOD_HOURS, Period
from notifier.operations.redis_topology import RedisTopology
from notifier.operations.schedule_ahead import bucket_starts, due_by_day, due_by_hour
from notifier.operations.status import HealthSummary, describe_problem, health_summary
from notifier.planning.reasons import Reason
from notifier.public_status import public_reason, public_status
from notifier.settings import Settings
from notifier.web.console.charts import (
    CHANNEL_COLOURS,
    STATUS_COLOURS,
    Bar,
    numbers_table,
    stacked_bars,
)
from notifier.web.console.clinic_names import ClinicNames
from notifier.web.console.i18n import Words

PERIODS: tuple[Period, ...] = ("hour", "day", "week")
CHANNELS = tuple(str(channel) for channel in Channel)
# Bottom to top: good outcomes first, problems on top where the eye lands.
STATUS_ORDER = tuple(str(s) for s in (
    DeliveryStatus.DELIVERED, DeliveryStatus.SENT, DeliveryStatus.ACCEPTED,
    DeliveryStatus.SUPPRESSED, DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED,
))
# What a clinic's operator is told has failed.
FAILED = (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED)
# The chart of deliveries over time: hours shown for each period.
CHART_HOURS = {"hour": 24, "day": 24, "week": 7 * 24}
# Delivery counts are read from one hash per hour, so their cost grows with the hours
# and the variety of (status, channel, kind, language, clinic) seen in each, not with
# the number of messages: a week is about a second of parsing on a busy deployment.
# Operators refreshing the page within this time share one reading.
DELIVERIES_FRESH_FOR = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class Deliveries:
    """Delivery counts for one period and clinic, as read at ``read_at``."""

    read_at: dt.datetime
    totals: DeliveryCounts
    over_time: list[HourCount]


class DeliveriesCache:
    """The latest :class:`Deliveries` per (period, clinic), reused while fresh.

    Parameters:
      fresh_for: how long a reading is shown before it is read again.
    """

    def __init__(self, *, fresh_for: dt.timedelta = DELIVERIES_FRESH_FOR) -> None:
        self.fresh_for = fresh_for
        self._readings: dict[tuple[str, str | None], Deliveries] = {}

    def get(self, redis: Redis, settings: Settings, now: dt.datetime, *,
            period: Period, location: str | None) -> Deliveries:
        key = (period, location)
        known = self._readings.get(key)
        if known is not None and known.read_at <= now < known.read_at + self.fresh_for:
            return known
        reading = Deliveries(
            read_at=now,
            totals=delivery_counts(redis, settings, now, period, location),
            over_time=deliveries_over_time(redis, settings, now, CHART_HOURS[period],
                                           location),
        )
        self._readings[key] = reading
        return reading


@dataclass(frozen=True)
class Machinery:
    """The gateway's moving parts, for operators who see every clinic.

    Parameters:
      health: queues, workers, the scheduler, the schedule's size, problems and warnings.
      hours, days: messages due per channel in each coming hour and day.
      hour_starts, day_starts: where those buckets start.
    """

    health: HealthSummary
    hours: Mapping[Channel, list[int]]
    days: Mapping[Channel, list[int]]
    hour_starts: list[dt.datetime]
    day_starts: list[dt.datetime]


@dataclass(frozen=True)
class Overview:
    """Everything the overview page reads.

    Parameters:
      now: when it was read.
      deliveries_at: when the delivery counts were read (up to
        :data:`DELIVERIES_FRESH_FOR` before ``now``).
      period: the period the breakdowns cover.
      machinery: queues and schedule; None for a clinic-scoped operator.
      totals: the chosen period's counts (reading a week of hourly counts is the page's
        dearest part, so only the period asked for is read).
      over_time: hourly counts for the chart.
      location: the clinic the deliveries are of (None: every clinic).
      ahead: for a clinic-scoped operator, their clinic's messages due soon.
      failed_last_hour: for a clinic-scoped operator, their clinic's deliveries that
        failed in the last hour.
    """

    now: dt.datetime
    deliveries_at: dt.datetime
    period: Period
    machinery: Machinery | None
    totals: DeliveryCounts
    over_time: list[HourCount]
    location: str | None = None
    ahead: ClinicAhead | None = None
    failed_last_hour: int = 0


def read_overview(
    redis: Redis, settings: Settings, now: dt.datetime, *, period: Period,
    location: str | None, machinery: bool, zone: dt.tzinfo, cache: DeliveriesCache,
) -> Overview:
    """Read the overview's numbers.

    Parameters:
      cache: recent delivery counts (queues and the schedule are always read afresh).
      location: only this clinic's deliveries (None: every clinic).
      machinery: also read queues and the schedule (operators who see every clinic).
      zone: the operators' time zone (the schedule's days are their days).
    """
    parts = None
    if machinery:
        parts = Machinery(
            health=health_summary(redis, settings, now),
            hours=due_by_hour(redis, settings, now, 24, tz=zone),
            days=due_by_day(redis, settings, now, 7, tz=zone),
            hour_starts=bucket_starts(now, step="hour", count=24, tz=zone)[:-1],
            day_starts=bucket_starts(now, step="day", count=7, tz=zone)[:-1],
        )
    deliveries = cache.get(redis, settings, now, period=period, location=location)
    ahead, failed = None, 0
    if not machinery and location is not None:
        ahead = clinic_ahead(redis, settings, now, location)
        last_hour = cache.get(redis, settings, now, period="hour", location=location).totals
        failed = sum(last_hour.by_status.get(str(s), 0) for s in FAILED)
    return Overview(now=now, deliveries_at=deliveries.read_at, period=period,
                    machinery=parts, totals=deliveries.totals, over_time=deliveries.over_time,
                    location=location, ahead=ahead, failed_last_hour=failed)


def finished(counts: DeliveryCounts) -> int:
    """Messages that reached an end (delivered, sent by email, failed...) in the period:
    each status is counted once per message reaching it, so sum the final ones only."""
    ends = (DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED,
            DeliveryStatus.SUPPRESSED)
    total = sum(counts.by_status.get(str(s), 0) for s in ends)
    return total + counts.by_channel.get(str(Channel.EMAIL), {}).get(str(DeliveryStatus.SENT), 0)


def _table(words: Words, prefix: str, rows: Mapping[str, Mapping[str, int]],
           statuses: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {"label": words.maybe(prefix, name) if prefix else (name or words("unknown")),
         "cells": [words.number(counts.get(s, 0)) for s in statuses]}
        for name, counts in rows.items()
    ]


_REASONS = frozenset(str(reason) for reason in Reason)


def messages_query(status: str, code: str, channel: str, *, clinic: str | None = None,
                   since: dt.date | None = None) -> str:
    """The query string of the Messages page filtered on one line of the failures table,
    in the page's public words.

    Parameters:
      status: the line's record status (undelivered, failed, suppressed).
      code: its count's code (a provider's code, or the gateway's reason).
      channel: its channel.
      clinic: the clinic the overview is narrowed to, if any.
      since: the first day the overview's period covers (in the console's zone).
    """
    try:
        record = DeliveryStatus(status)
        ours = code in _REASONS
        reason = public_reason(record, reason=code if ours else None,
                               error_code=None if ours else code, channel=Channel(channel))
    except ValueError:
        return ""
    query = {"status": str(public_status(record)), "channel": channel, "reason": reason or "",
             "clinic": clinic or "", "from": since.isoformat() if since else ""}
    return urlencode({k: v for k, v in query.items() if v})


def _first_day(data: Overview, words: Words) -> dt.date:
    """The first day, in the console's zone, of the period the overview counts."""
    return (data.now - dt.timedelta(hours=PERIOD_HOURS[data.period])).astimezone(words.zone).date()


def overview_view(data: Overview, words: Words, *, clinics: ClinicNames,
                  undeliverable: int = 0) -> dict[str, Any]:
    """The template's values for :func:`read_overview`'s numbers, in ``words``' language.

    Parameters:
      data: the numbers.
      words: the operator's words.
      clinics: the clinics' names.
      undeliverable: the undeliverable contacts the operator sees (a clinic's health).
    """
    chosen = data.totals
    statuses = [s for s in STATUS_ORDER if s in chosen.by_status] + sorted(
        s for s in chosen.by_status if s not in STATUS_ORDER)
    status_names = {s: words.maybe("status", s) for s in (*STATUS_ORDER, *statuses)}
    channel_names = {c: words.maybe("channel", c) for c in CHANNELS}
    over_time = [Bar(words.hour(h.hour) if len(data.over_time) <= 24 else words.day(h.hour),
                     h.by_status) for h in data.over_time]
    view: dict[str, Any] = {
        "now": words.when(data.now),
        "deliveries_at": words.when(data.deliveries_at),
        "period": data.period,
        "periods": PERIODS,
        "summary": {
            "finished": words.number(finished(chosen)),
            "rate": words.percent(chosen.delivery_rate) if chosen.delivery_rate is not None
            else words("deliveries.rate.none"),
            "tone": _tone(chosen.delivery_rate),
            # Not a status: a figure of its own, in no table of statuses.
            "redundant": words.number(sum(chosen.fallback_redundant.values()))
            if chosen.fallback_redundant else None,
        },
        "statuses": [status_names[s] for s in statuses],
        "breakdowns": [
            ("deliveries.by.status", [{"label": status_names[s],
                                       "cells": [words.number(chosen.by_status[s])]}
                                      for s in statuses], [words("deliveries.count")]),
            ("deliveries.by.channel", _table(words, "channel", chosen.by_channel, statuses),
             None),
            ("deliveries.by.kind", _table(words, "kind", chosen.by_kind, statuses), None),
            ("deliveries.by.lang", _table(words, "lang", chosen.by_lang, statuses), None),
            ("deliveries.by.location",
             _table(words, "", {clinics.name(k) or k: v for k, v in chosen.by_location.items()},
                    statuses), None),
        ],
        "failures": [
            {"reason": f.reason or "—", "channel": channel_names.get(f.channel, f.channel),
             "status": words.maybe("status", f.status), "count": words.number(f.count),
             "explanation": f.explanation_fr if words.lang == "fr" else f.explanation_en,
             "query": messages_query(f.status, f.reason, f.channel, clinic=data.location,
                                     since=_first_day(data, words))}
            for f in (*chosen.failures, *chosen.suppressions)
        ],
        "over_time": stacked_bars(
            over_time, series=STATUS_ORDER, names=status_names,
            title=words("deliveries.over_time"), empty=words("chart.empty"),
            colours=STATUS_COLOURS, width=1100,
        ),
        "over_time_numbers": numbers_table(
            over_time, series=STATUS_ORDER, names=status_names,
            title=words("deliveries.over_time"), summary=words("look.chart.numbers"),
            corner=words("look.chart.when")),
        "zone_note": words.zone_note(data.now),
        "clinic": clinics.name(data.location),
        "clinic_view": None if data.machinery is not None or data.location is None
        else _clinic_view(data, words, clinics, undeliverable),
        "machinery": None,
    }
    parts = data.machinery
    if parts is not None:
        health = parts.health
        last_run = health.scheduler_last_run
        view["machinery"] = {
            "tone": "error" if health.problems else "warn" if health.warnings else "ok",
            "verdict": words("overview.health.problem") if health.problems
            else words("overview.health.attention") if health.warnings
            else words("overview.health.ok"),
            "problems": [describe_problem(code, words.lang)
                         for code in (*health.problems, *health.warnings)],
            "queues": [
                {"queue": q.queue, "ready": words.number(q.ready),
                 "in_flight": words.number(q.in_flight), "delayed": words.number(q.delayed),
                 "dead": words.number(q.dead), "dead_count": q.dead}
                for q in health.queues
            ],
            "workers": health.live_workers,
            "redis": None if health.redis is None else _redis(health.redis, words),
            "scheduler": words.when(last_run) if last_run else words("queues.scheduler.never"),
            "scheduler_age": None if last_run is None
            else words("queues.scheduler.ago",
                       seconds=words.number(max(0, int((data.now - last_run).total_seconds())))),
            "scheduled": words.number(sum(health.schedule_size.values())),
            "hours_chart": _ahead(parts.hours, [words.hour(s) for s in parts.hour_starts],
                                  channel_names, words, "ahead.hours", "look.chart.hour"),
            "days_chart": _ahead(parts.days, [words.day(s) for s in parts.day_starts],
                                 channel_names, words, "ahead.days", "look.chart.day"),
            "hours_total": words("ahead.total", count=words.number(
                sum(sum(v) for v in parts.hours.values()))),
            "days_total": words("ahead.total", count=words.number(
                sum(sum(v) for v in parts.days.values()))),
        }
    return view


def _redis(topology: RedisTopology, words: Words) -> dict[str, object]:
    """Which Redis the console reads, and whether its replicas confirm writes."""
    lines = [words("queues.redis.replicas", acknowledged=words.number(topology.acknowledged),
                   connected=words.number(topology.replicas),
                   required=words.number(topology.required))]
    if topology.service is not None:
        lines.insert(0, words("queues.redis.sentinel", service=topology.service,
                              answering=words.number(topology.sentinels_answering or 0),
                              listed=words.number(topology.sentinels_listed)))
    return {"primary": topology.primary, "lines": lines, "short": topology.short}


def clinic_health(words: Words, *, failed: int, undeliverable: int) -> tuple[str, list[str]]:
    """A clinic's health in a line or two, and its tone.

    Parameters:
      words: the operator's words.
      failed: its deliveries that failed in the last hour.
      undeliverable: its undeliverable contacts.
    """
    lines = []
    if failed:
        lines.append(words("places.health.failures", count=words.number(failed)))
    if undeliverable:
        lines.append(words("places.health.undeliverable", count=words.number(undeliverable)))
    return ("warn", lines) if lines else ("ok", [words("places.health.ok")])


def _clinic_view(data: Overview, words: Words, clinics: ClinicNames,
                 undeliverable: int) -> dict[str, Any]:
    tone, lines = clinic_health(words, failed=data.failed_last_hour,
                                undeliverable=undeliverable)
    ahead = data.ahead
    return {
        "tone": tone, "health": lines,
        "title": words("places.ahead.title", clinic=clinics.name(data.location)),
        "day": words.number(ahead.day) if ahead else "—",
        "week": words.number(ahead.week) if ahead else "—",
        "capped": bool(ahead and ahead.capped),
    }


def _ahead(due: Mapping[Channel, list[int]], labels: list[str], names: Mapping[str, str],
           words: Words, title: str, corner: str) -> dict[str, Any]:
    bars = [Bar(label, {str(c): counts[i] for c, counts in due.items()})
            for i, label in enumerate(labels)]
    return {
        "svg": stacked_bars(bars, series=CHANNELS, names=names, title=words(title),
                            empty=words("chart.empty"), colours=CHANNEL_COLOURS, width=560),
        "numbers": numbers_table(bars, series=CHANNELS, names=names, title=words(title),
                                 summary=words("look.chart.numbers"), corner=words(corner)),
    }


def _tone(rate: float | None) -> str:
    if rate is None:
        return ""
    return "good" if rate >= 0.95 else "warn" if rate >= 0.8 else "bad"
