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
    def sequence(self) -> int:
        """The id as one growing integer: a later change has a higher sequence."""
        ms, n = self.id.split("-")
        return int(ms) * 1000 + int(n)


class CallbackLog(RedisStore):
    """Reads the callback log (built as a :class:`RedisStore`)."""

    def read(self, *, after: str | None, count: int) -> list[LogEntry]:
        """Up to ``count`` entries after the entry id ``after`` (from the first kept when
        None), oldest first."""
        start = "-" if after is None else f"({after}"
        raw: list[Any] = self.redis.xrange(self.keys.callback_log, min=start, count=count) or []
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
