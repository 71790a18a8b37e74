"""One entry of the callback log, as the store reads it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LogEntry:
    """What one change told booking systems, as the callback log keeps it.

    Parameters:
      id: the entry's stream id (``<ms>-<n>``); ids only grow.
      fields: the entry's fields (``type``, ``at`` and the rest, see the store's scripts).
    """

    id: str
    fields: dict[str, str]

    @property
    def sequence(self) -> int:
        """The id as one growing integer: a later change has a higher sequence."""
        ms, n = self.id.split("-")
        return int(ms) * 1000 + int(n)
