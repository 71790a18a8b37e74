"""The callback log: a Redis stream of what booking systems are told, written by the same
scripts as the changes it reports (``scripts/lib/callback_log.lua``), read here in order."""

from __future__ import annotations

from typing import Any

from notifier.callbacks.log_entry import LogEntry
from notifier.store.decoding import text, text_map
from notifier.store.redis_store import RedisStore


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
