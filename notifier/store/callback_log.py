"""The callback log: a Redis stream of what booking systems are told, written by the same
scripts as the changes it reports (``scripts/lib/callback_log.lua``), read here in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis import ResponseError

from notifier.store.decoding import text, text_map
from notifier.store.redis_store import RedisStore


@dataclass(frozen=True)
class LogEntry:
    """What one change told booking systems, as the callback log keeps it.

    Parameters:
      id: the entry's stream id (``<ms>-<n>``): its place in the log (ids only grow), and
        the public event's id after ``evt_``.
      fields: the entry's fields, all strings (``type``, ``at``, then those of its kind of
        event; see ``scripts/lib/callback_log.lua`` and its callers).
    """

    id: str
    fields: dict[str, str]

    @property
    def locations(self) -> list[str]:
        """The locations the entry concerns, whose booking systems hear of it: a message's
        own; for a contact change, those that wrote to the address (maybe none)."""
        if "location" in self.fields:
            return [self.fields["location"]]
        return [location for location in self.fields.get("locations", "").split(",")
                if location]

    @property
    def sequence(self) -> int:
        """The id as one growing integer: a later change has a higher sequence."""
        ms, n = self.id.split("-")
        return int(ms) * 1000 + int(n)


class CallbackLog(RedisStore):
    """Reads the callback log (built as a :class:`RedisStore`)."""

    def read(self, *, after: str | None, count: int, since_ms: int | None = None,
             until_ms: int | None = None) -> list[LogEntry]:
        """Up to ``count`` entries after the entry id ``after`` (from the first kept when
        None), oldest first.

        Parameters:
          after: the id of the last entry already read, or None.
          count: at most this many entries.
          since_ms, until_ms: only entries logged from and up to these times (epoch
            milliseconds, both included), when given.
        """
        if until_ms is not None and until_ms < 0:
            return []  # before any id a stream can hold
        if since_ms is not None:
            since_ms = max(since_ms, 0)
        start = "-" if after is None else f"({after}"
        if since_ms is not None and (after is None or int(after.split("-")[0]) < since_ms):
            start = f"{since_ms}-0"
        end = "+" if until_ms is None else str(until_ms)
        raw: list[Any] = self.redis.xrange(self.keys.callback_log, min=start, max=end,
                                           count=count) or []
        return [LogEntry(text(entry_id), text_map(fields)) for entry_id, fields in raw]

    def first_id(self) -> str | None:
        """The oldest entry kept (None when the log is empty)."""
        raw: list[Any] = self.redis.xrange(self.keys.callback_log, count=1) or []
        return text(raw[0][0]) if raw else None

    def get(self, entry_id: str) -> LogEntry | None:
        """Entry ``entry_id``, or None when the log no longer keeps it (or never did)."""
        try:
            raw: list[Any] = self.redis.xrange(self.keys.callback_log, min=entry_id,
                                               max=entry_id, count=1) or []
        except ResponseError:  # not an entry id at all
            return None
        return LogEntry(text(raw[0][0]), text_map(raw[0][1])) if raw else None
