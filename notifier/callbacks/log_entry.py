"""One entry of the callback log, as the store reads it. Pure: no Redis."""

from __future__ import annotations

from dataclasses import dataclass


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
