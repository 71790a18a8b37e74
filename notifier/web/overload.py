"""Connections the web process closed or refused to protect itself, logged as one summary
line per interval with a count for each reason, never a line (or a traceback) per socket.

:class:`OverloadTally` decides (pure: the caller gives the time); :class:`OverloadLog`
puts it on the event loop.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import Counter

log = logging.getLogger(__name__)


class Closed(enum.StrEnum):
    """Why a connection was closed without an answer."""

    IDLE = "idle"  # its request head was not complete within the header timeout
    SLOW_BODY = "slow body"  # its request body was not complete within the body timeout
    EVICTED = "evicted"  # it was still waiting for a request head at the connection limit
    REFUSED = "refused"  # it came at the connection limit, every connection busy
    NO_FILES = "not accepted"  # the process had no file descriptor left to accept it


class OverloadTally:
    """Counts closed connections and says when the next summary is due.

    Parameters:
      interval: the least time, in seconds, between two summaries. The first closing
        after a quiet interval is reported at once.
    """

    def __init__(self, *, interval: float) -> None:
        self.interval = interval
        self.counts: Counter[Closed] = Counter()
        self._last_report: float | None = None
        self._scheduled = False

    def note(self, reason: Closed, *, now: float) -> float | None:
        """Count one closing; returns when to report it if no report is scheduled yet."""
        self.counts[reason] += 1
        if self._scheduled:
            return None
        self._scheduled = True
        if self._last_report is None:
            return now
        return max(now, self._last_report + self.interval)

    def report(self, *, now: float) -> dict[Closed, int]:
        """The counts since the last report (then reset)."""
        counts = dict(self.counts)
        self.counts.clear()
        self._last_report = now
        self._scheduled = False
        return counts


def summary(counts: dict[Closed, int], interval: float) -> str:
    parts = ", ".join(f"{count} {reason}" for reason, count in sorted(counts.items()))
    return (
        f"connections closed to protect the web process (at most one line every "
        f"{interval:g}s): {parts}"
    )


class OverloadLog:
    """:class:`OverloadTally` on the running event loop, logging at WARNING.

    Parameters:
      interval: the least time, in seconds, between two lines.
    """

    def __init__(self, *, interval: float) -> None:
        self.tally = OverloadTally(interval=interval)

    def note(self, reason: Closed) -> None:
        loop = asyncio.get_running_loop()
        due = self.tally.note(reason, now=loop.time())
        if due is not None:
            loop.call_at(due, self._flush, loop)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        counts = self.tally.report(now=loop.time())
        if counts:
            log.warning(summary(counts, self.tally.interval))
