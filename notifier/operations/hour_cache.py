"""Finished hours' counts, parsed once per process and confirmed with Redis at each read.

:class:`HourCache` keeps each finished hour's :class:`ParsedHour` (by Redis server,
prefix and hour; least recently used out), and every read asks Redis, in the same round
trip, whether a kept hour is still the hash that was parsed (the script
``stats_snapshot.lua``). The current hour is always read afresh.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence

from redis import Redis

from notifier.operations.hourly_counts import PERIOD_HOURS, ParsedHour, hour_label
from notifier.operations.times import require_aware
from notifier.settings import Settings
from notifier.store.deliveries import STATS_TTL_SECONDS
from notifier.store.keys import Keys
from notifier.store.lua import load_script

# Finished hours kept parsed in a process: a week's worth for two prefixes. On a busy
# deployment (1,000 counts fields an hour) an hour takes about 150 KB.
CACHED_HOURS = 2 * (PERIOD_HOURS["week"] + 1)


# Which Redis server, prefix and hour (YYYYMMDDHH).
_HourName = tuple[tuple[Hashable, ...], str, str]


class HourCache:
    """Parsed counts of finished hours, kept in this process (least recently used out).

    The delivery log counts into the current hour, so a finished hour almost never
    changes; but a count may be stamped with a time taken just before the hour turned, or
    by a host whose clock lags, and Redis may be flushed or restored. So each read asks
    Redis, in its one round trip, whether every kept hour is still the hash that was parsed
    (``stats_snapshot.lua``), and parses again the ones that are not. The current hour is
    read afresh every time and never kept.

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

    def read(self, redis: Redis, settings: Settings, starts: Sequence[dt.datetime],
             now: dt.datetime) -> list[ParsedHour]:
        """The parsed counts of each UTC hour in ``starts``; hours before the one holding
        ``now`` may come from memory, once Redis confirms them."""
        current = require_aware(now).replace(minute=0, second=0, microsecond=0)
        keys = Keys(settings.queue_prefix)
        server = _server(redis)
        snapshot = load_script(redis, "stats_snapshot")
        wanted = []
        with self._lock:
            for start in starts:
                label = hour_label(start)
                name = (server, settings.queue_prefix, label)
                kept = self._kept.get(name) if start < current else None
                wanted.append((name, keys.stats(label), start < current, kept))
        with redis.pipeline(transaction=False) as pipe:
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


def _server(redis: Redis) -> tuple[Hashable, ...]:
    """Which Redis (and database) a client talks to."""
    where = redis.connection_pool.connection_kwargs
    return (where.get("host"), where.get("port"), where.get("path"), where.get("db"))


finished_hours = HourCache()
