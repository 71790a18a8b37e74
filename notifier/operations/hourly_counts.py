"""The hourly counts the delivery log keeps, parsed and summed.

The delivery log (:mod:`notifier.store.deliveries`) counts, in one hash per UTC hour
(``<prefix>:stats:<YYYYMMDDHH>``, kept 8 days), each status a message reaches, by
``status|channel|kind|lang|location|reason``. Reading a week is 169 small hashes, not a
scan of the delivery records.

Messages delivered late, after their fallback was handed to a provider
(``fallback_redundant``), are counted apart, in one hash per hour of their own
(``<prefix>:fallback-redundant:<YYYYMMDDHH>``, by ``channel|kind|lang|location``): they
are not a status a message reached, so no total of statuses holds them
(:func:`read_redundant`).

A period of N hours covers the N whole UTC hours before the current one plus the current
hour so far (:func:`hour_starts`): hourly buckets cannot be cut at "exactly 60 minutes
ago", and counting the current hour alone would show almost nothing just after the hour.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from redis import Redis

from notifier.delivery_status import DeliveryStatus
from notifier.operations.delivery_rate import PROBLEMS, rate_across
from notifier.operations.times import require_aware
from notifier.settings import Settings
from notifier.store.decoding import text, text_map
from notifier.store.keys import Keys

Period = Literal["hour", "day", "week"]
PERIOD_HOURS: dict[str, int] = {"hour": 1, "day": 24, "week": 7 * 24}

# Statuses whose reason is counted: failures, and suppressions (why not sent).
_WITH_REASON = frozenset(str(s) for s in (*PROBLEMS, DeliveryStatus.SUPPRESSED))


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
        return cls(*_field_parts(name), int(value))


def _field_parts(name: str) -> tuple[str, str, str, str, str, str]:
    """status, channel, kind, lang, location and reason, from a counts field's name."""
    parts = name.split("|")
    if len(parts) < 6:  # not written by this version of the gateway
        parts += [""] * (6 - len(parts))
    # A location id may hold '|'; the other parts never do.
    return parts[0], parts[1], parts[2], parts[3], "|".join(parts[4:-1]), parts[-1]


def hour_starts(now: dt.datetime, hours: int) -> list[dt.datetime]:
    """The UTC hours counted for a period of ``hours``: that many whole hours before the
    current one, then the current one; oldest first."""
    current = require_aware(now).replace(minute=0, second=0, microsecond=0)
    return [current - dt.timedelta(hours=hours - i) for i in range(hours + 1)]


def read_hours(
    redis: Redis, settings: Settings, hours: Iterable[dt.datetime]
) -> list[list[CountLine]]:
    """The parsed counts of each UTC hour given (one round trip), read afresh: the
    dashboards read through :data:`~notifier.operations.hour_cache.finished_hours`
    instead."""
    keys = Keys(settings.queue_prefix)
    with redis.pipeline(transaction=False) as pipe:
        for hour in hours:
            pipe.hgetall(keys.stats(hour_label(hour)))
        raw = pipe.execute()
    return [[CountLine.parse(k, v) for k, v in text_map(fields).items()] for fields in raw]


def read_redundant(
    redis: Redis, settings: Settings, hours: Iterable[dt.datetime], *,
    location: str | None = None,
) -> dict[str, int]:
    """Messages delivered late after their fallback was sent, per channel (of the late
    message), summed over the UTC hours given (one round trip).

    Parameters:
      location: only this clinic's (None: every clinic's).
    """
    keys = Keys(settings.queue_prefix)
    with redis.pipeline(transaction=False) as pipe:
        for hour in hours:
            pipe.hgetall(keys.fallback_redundant(hour_label(hour)))
        raw = pipe.execute()
    found: dict[str, int] = {}
    for fields in raw:
        for name, value in text_map(fields).items():
            # channel|kind|lang|location: a location id may hold '|'.
            channel, _kind, _lang, where = [*name.split("|", 3), "", "", ""][:4]
            if location is None or where == location:
                found[channel] = found.get(channel, 0) + int(value)
    return dict(sorted(found.items()))


def hour_label(hour: dt.datetime) -> str:
    """The hour as its counts hash names it: ``YYYYMMDDHH`` in UTC."""
    return hour.astimezone(dt.UTC).strftime("%Y%m%d%H")


# A tally: counts keyed ("status", "", status), (dimension, name, status) for each of
# DIMENSIONS, and ("reason", reason, channel, status) for failures and suppressions. Flat,
# so that summing hours is one loop over small dicts.
Tally = dict[tuple[str, ...], int]
DIMENSIONS = ("channel", "kind", "lang", "location")


def _count(tally: Tally, status: str, channel: str, kind: str, lang: str, location: str,
           reason: str, count: int) -> None:
    """Add one counts field to ``tally``."""
    get = tally.get
    for key in (("status", "", status), ("channel", channel, status), ("kind", kind, status),
                ("lang", lang, status), ("location", location, status)):
        tally[key] = get(key, 0) + count
    if status in _WITH_REASON:
        why = ("reason", reason, channel, status)
        tally[why] = get(why, 0) + count


def add_tally(total: Tally, tally: Tally) -> None:
    """Add every count of ``tally`` (left unchanged) to ``total``."""
    get = total.get
    for key, count in tally.items():
        total[key] = get(key, 0) + count


def unfold(tally: Tally) -> tuple[
    dict[str, int], dict[str, dict[str, dict[str, int]]], dict[tuple[str, str, str], int]
]:
    """A tally as status counts, per-dimension tables (name -> status -> count, names in
    order) and (reason, channel, status) counts."""
    by_status: dict[str, int] = {}
    tables: dict[str, dict[str, dict[str, int]]] = {dimension: {} for dimension in DIMENSIONS}
    reasons: dict[tuple[str, str, str], int] = {}
    for key, count in tally.items():
        if key[0] == "status":
            by_status[key[2]] = count
        elif key[0] == "reason":
            reasons[(key[1], key[2], key[3])] = count
        else:
            tables[key[0]].setdefault(key[1], {})[key[2]] = count
    return (dict(sorted(by_status.items())),
            {dimension: dict(sorted(table.items())) for dimension, table in tables.items()},
            reasons)


# One hour's point on a chart: status counts and the delivery rate.
Point = tuple[dict[str, int], float | None]
_NOTHING: Point = ({}, None)


@dataclass(frozen=True)
class ParsedHour:
    """One UTC hour's counts hash, summed up for every clinic and for each clinic.

    Shared by every reader of the hour cache: read it, never change it.

    Parameters:
      tallies: location -> its tally; None -> every clinic's.
      points: location (None: every clinic) -> its status counts and delivery rate.
    """

    tallies: dict[str | None, Tally]
    points: dict[str | None, Point]

    @classmethod
    def parse(cls, flat: Sequence[Any]) -> ParsedHour:
        """From HGETALL's flat answer: field, value, field, value..."""
        by_location: dict[str, Tally] = {}
        for at in range(0, len(flat), 2):
            status, channel, kind, lang, location, reason = _field_parts(text(flat[at]))
            tally = by_location.get(location)
            if tally is None:
                tally = by_location[location] = {}
            _count(tally, status, channel, kind, lang, location, reason, int(flat[at + 1]))
        # Each clinic's tally holds the same few keys: kept once for the hour.
        same: dict[tuple[str, ...], tuple[str, ...]] = {}
        tallies: dict[str | None, Tally] = {}
        everyone: Tally = {}
        for location, tally in by_location.items():
            tallies[location] = {same.setdefault(key, key): n for key, n in tally.items()}
            add_tally(everyone, tallies[location])
        tallies[None] = everyone
        return cls(tallies, {location: _point(tally) for location, tally in tallies.items()})

    def tally(self, location: str | None) -> Tally:
        return self.tallies.get(location, {})

    def point(self, location: str | None) -> Point:
        return self.points.get(location, _NOTHING)


def _point(tally: Tally) -> Point:
    by_status, tables, _ = unfold(tally)
    return by_status, rate_across(tables["channel"])
