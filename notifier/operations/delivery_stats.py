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

Reading is cheap because finished hours are parsed once per process: :class:`HourCache`
keeps each finished hour's tallies (by Redis server, prefix and hour; least recently used
out), and every read asks Redis, in the same round trip, whether a kept hour is still the
hash that was parsed (see :data:`_SNAPSHOT`). The current hour is always read afresh.
:class:`TallySums` keeps the sum of a period's finished hours until one of them changes
(every hour, as the period moves).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import redis

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel, Lang
from notifier.operations.failure_words import explain_failure
from notifier.operations.text import iso, require_aware, text, text_map
from notifier.settings import Settings
from notifier.store.deliveries import STATS_TTL_SECONDS
from notifier.store.keys import Keys

Period = Literal["hour", "day", "week"]
PERIOD_HOURS: dict[str, int] = {"hour": 1, "day": 24, "week": 7 * 24}

SUCCESS = DeliveryStatus.DELIVERED
# An SMTP relay gives no delivery receipt: for email, "sent" is the good outcome.
EMAIL_SUCCESS = DeliveryStatus.SENT
PROBLEMS = (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)
# Statuses whose reason is counted: failures, and suppressions (why not sent).
_WITH_REASON = frozenset(str(s) for s in (*PROBLEMS, DeliveryStatus.SUPPRESSED))
# Finished hours kept parsed in a process: a week's worth for two prefixes. On a busy
# deployment (1,000 counts fields an hour) an hour takes about 150 KB.
CACHED_HOURS = 2 * (PERIOD_HOURS["week"] + 1)


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
    """The parsed counts of each UTC hour given (one round trip), read afresh: the
    dashboards read through :data:`finished_hours` instead."""
    keys = Keys(settings.queue_prefix)
    with client.pipeline(transaction=False) as pipe:
        for hour in hours:
            pipe.hgetall(keys.stats(_hour_label(hour)))
        raw = pipe.execute()
    return [[CountLine.parse(k, v) for k, v in text_map(fields).items()] for fields in raw]


def _hour_label(hour: dt.datetime) -> str:
    return hour.astimezone(dt.UTC).strftime("%Y%m%d%H")


# A tally: counts keyed ("status", "", status), (dimension, name, status) for each of
# _DIMENSIONS, and ("reason", reason, channel, status) for failures and suppressions. Flat,
# so that summing hours is one loop over small dicts.
Tally = dict[tuple[str, ...], int]
_DIMENSIONS = ("channel", "kind", "lang", "location")


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


def _add(total: Tally, tally: Tally) -> None:
    """Add every count of ``tally`` (left unchanged) to ``total``."""
    get = total.get
    for key, count in tally.items():
        total[key] = get(key, 0) + count


def _unfold(tally: Tally) -> tuple[
    dict[str, int], dict[str, dict[str, dict[str, int]]], dict[tuple[str, str, str], int]
]:
    """A tally as status counts, per-dimension tables (name -> status -> count, names in
    order) and (reason, channel, status) counts."""
    by_status: dict[str, int] = {}
    tables: dict[str, dict[str, dict[str, int]]] = {dimension: {} for dimension in _DIMENSIONS}
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


# One hour's point on a chart: status counts and the delivery rate.
_Point = tuple[dict[str, int], float | None]
_NOTHING: _Point = ({}, None)


@dataclass(frozen=True)
class ParsedHour:
    """One UTC hour's counts hash, summed up for every clinic and for each clinic.

    Shared by every reader of :data:`finished_hours`: read it, never change it.

    Parameters:
      tallies: location -> its tally; None -> every clinic's.
      points: location (None: every clinic) -> its status counts and delivery rate.
    """

    tallies: dict[str | None, Tally]
    points: dict[str | None, _Point]

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
            _add(everyone, tallies[location])
        tallies[None] = everyone
        return cls(tallies, {location: _point(tally) for location, tally in tallies.items()})

    def tally(self, location: str | None) -> Tally:
        return self.tallies.get(location, {})

    def point(self, location: str | None) -> _Point:
        return self.points.get(location, _NOTHING)


def _point(tally: Tally) -> _Point:
    by_status, tables, _ = _unfold(tally)
    return by_status, rate_across(tables["channel"])


# KEYS: one hour's counts. ARGV: the mark of the copy the reader keeps (0: none), the
# counts' ttl in ms. Returns {mark} while that copy is still right, else {mark, fields and
# values}. The mark is when the hash expires: the delivery log pushes it forward with each
# count, so it tells the last write to the millisecond. -2: no hash (still a mark: a count
# creates one). 0: not to be kept, for a hash without an expiry (writes cannot be told
# apart) or written this very millisecond (the next write could bear the same mark).
_SNAPSHOT = """
local expires = redis.call('PEXPIRETIME', KEYS[1])
if expires == -1 then
  expires = 0
elseif expires > 0 then
  local now = redis.call('TIME')
  if expires - tonumber(ARGV[2]) >= now[1] * 1000 + math.floor(now[2] / 1000) then
    expires = 0
  end
end
if expires ~= 0 and expires == tonumber(ARGV[1]) then
  return {expires}
end
return {expires, redis.call('HGETALL', KEYS[1])}
"""


# Which Redis server, prefix and hour (YYYYMMDDHH).
_HourName = tuple[tuple[Hashable, ...], str, str]


class HourCache:
    """Parsed counts of finished hours, kept in this process (least recently used out).

    The delivery log counts into the current hour, so a finished hour almost never
    changes; but a count may be stamped with a time taken just before the hour turned, or
    by a host whose clock lags, and Redis may be flushed or restored. So each read asks
    Redis, in its one round trip, whether every kept hour is still the hash that was parsed
    (:data:`_SNAPSHOT`), and parses again the ones that are not. The current hour is read
    afresh every time and never kept.

    Parameters:
      size: how many hours to keep, every Redis server and prefix together.
    """

    def __init__(self, *, size: int = CACHED_HOURS) -> None:
        self.size = size
        self.parsed = 0  # hours parsed since the start: for tests and benchmarks
        self._kept: OrderedDict[_HourName, tuple[int, ParsedHour]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def read(self, client: redis.Redis, settings: Settings, starts: Sequence[dt.datetime],
             now: dt.datetime) -> list[ParsedHour]:
        """The parsed counts of each UTC hour in ``starts``; hours before the one holding
        ``now`` may come from memory, once Redis confirms them."""
        current = require_aware(now).replace(minute=0, second=0, microsecond=0)
        keys = Keys(settings.queue_prefix)
        server = _server(client)
        snapshot = client.register_script(_SNAPSHOT)
        wanted = []
        with self._lock:
            for start in starts:
                label = _hour_label(start)
                name = (server, settings.queue_prefix, label)
                kept = self._kept.get(name) if start < current else None
                wanted.append((name, keys.stats(label), start < current, kept))
        with client.pipeline(transaction=False) as pipe:
            for _, key, _, kept in wanted:
                snapshot(keys=[key], args=[0 if kept is None else kept[0], _TTL_MS],
                         client=pipe)
            answers = pipe.execute()
        hours = []
        reused = []
        parsed: list[tuple[_HourName, int, ParsedHour]] = []
        for (name, _, finished, kept), answer in zip(wanted, answers, strict=True):
            if len(answer) == 1 and kept is not None:  # Redis confirmed the kept copy
                hours.append(kept[1])
                reused.append(name)
                continue
            hour = ParsedHour.parse(answer[1])
            hours.append(hour)
            mark = int(answer[0])
            if finished and mark != 0:
                parsed.append((name, mark, hour))
        with self._lock:
            self.parsed += len(hours) - len(reused)
            for name in reused:
                if name in self._kept:
                    self._kept.move_to_end(name)
            for name, mark, hour in parsed:
                self._kept[name] = (mark, hour)
                self._kept.move_to_end(name)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return hours


_TTL_MS = STATS_TTL_SECONDS * 1000


def _server(client: redis.Redis) -> tuple[Hashable, ...]:
    """Which Redis (and database) a client talks to."""
    where = client.connection_pool.connection_kwargs
    return (where.get("host"), where.get("port"), where.get("path"), where.get("db"))


class TallySums:
    """Sums of many hours' tallies, kept while those very hours are (a week's finished hours
    change once an hour, yet adding up their tallies costs more than reading them).

    An entry holds the :class:`ParsedHour` objects it summed: an hour parsed again is a new
    object, so a sum is never used for hours it did not add.

    Parameters:
      size: how many sums to keep (one per period and clinic looked at).
    """

    def __init__(self, *, size: int = 32) -> None:
        self.size = size
        self._sums: OrderedDict[tuple[Hashable, ...], tuple[tuple[ParsedHour, ...], Tally]] = (
            OrderedDict())
        self._lock = threading.Lock()

    def total(self, hours: Sequence[ParsedHour], location: str | None) -> Tally:
        """The sum of ``hours``' tallies for ``location`` (shared: do not change it)."""
        # The entry keeps its hours alive, so their ids stay theirs while it lives.
        name = (location, *map(id, hours))
        with self._lock:
            known = self._sums.get(name)
            if known is not None:
                self._sums.move_to_end(name)
                return known[1]
        total: Tally = {}
        for hour in hours:
            _add(total, hour.tally(location))
        with self._lock:
            self._sums[name] = (tuple(hours), total)
            while len(self._sums) > self.size:
                self._sums.popitem(last=False)
        return total


finished_hours = HourCache()
finished_sums = TallySums()


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
    *before, current = finished_hours.read(client, settings, starts, now)
    total = dict(finished_sums.total(before, location))
    _add(total, current.tally(location))
    by_status, tables, reasons = _unfold(total)
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
    for start, hour in zip(starts, finished_hours.read(client, settings, starts, now),
                           strict=True):
        by_status, rate = hour.point(location)
        series.append(HourCount(hour=start, by_status=dict(by_status), delivery_rate=rate))
    return series
