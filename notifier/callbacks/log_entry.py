"""One entry of the callback log, as Redis gives it back. Pure: no Redis."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LogEntry:
    """A change the gateway reports to integrators, as the callback log holds it.

    Parameters:
      id: the entry's stream id (``1700000000000-0``): its place in the log, and the
        public event's id after ``evt_``.
      fields: the entry's fields, all strings (``type``, ``at``, then those of its kind of
        event).
    """

    id: str
    fields: dict[str, str]
