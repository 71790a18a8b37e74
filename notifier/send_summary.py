"""What a worker's sends came to, logged as one INFO line per interval with a count per
outcome, where each send's own line is for debugging.

:class:`SendTally` decides (pure: the caller gives the time); :class:`SendSummary` counts
from the worker's threads and logs. A line is written by the first send after the interval
has passed (no timer thread: a worker that sends nothing has nothing to report), and by
:meth:`SendSummary.flush` when the worker stops. It holds counts only, never a message's
key or address.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

log = logging.getLogger(__name__)


class Tried(enum.StrEnum):
    """What one run of the send actor came to, in the order the summary lists them."""

    SENT = "sent"
    SUPPRESSED = "suppressed"
    DEFERRED = "deferred"
    ALREADY_DONE = "already done"
    RETRIED = "retried"  # handed back to Dramatiq for a later try (``Retry``)
    FAILED = "failed"  # given up for good, recorded as failed
    CRASHED = "crashed"  # an unexpected exception (Dramatiq logs it and retries)


class SendTally:
    """Counts the send actor's runs and says when a summary is due.

    Parameters:
      interval: the least time, in seconds, between two summaries.
      now: when counting starts (the first summary is due ``interval`` after it).
    """

    def __init__(self, *, interval: float, now: float) -> None:
        self.interval = interval
        self.counts: Counter[Tried] = Counter()
        self.since = now

    def note(self, tried: Tried, *, now: float) -> bool:
        """Count one run; returns whether a summary is due."""
        self.counts[tried] += 1
        return now - self.since >= self.interval

    def report(self, *, now: float) -> tuple[dict[Tried, int], float]:
        """The counts since the last report (then reset), and the seconds they cover."""
        counts, span = dict(self.counts), now - self.since
        self.counts.clear()
        self.since = now
        return counts, span


def summary(counts: dict[Tried, int], span: float) -> str:
    """The summary line: every outcome, zeros included, so that lines compare at a glance.

    Parameters:
      counts: runs per outcome.
      span: the seconds they cover.
    """
    parts = ", ".join(f"{counts.get(tried, 0)} {tried}" for tried in Tried)
    return f"sends in the last {span:.0f} s: {parts}"


class SendSummary:
    """:class:`SendTally` shared by a worker process's threads, logging at INFO.

    Parameters:
      interval: the least time, in seconds, between two lines.
      clock: monotonic seconds (``time.monotonic``; tests pass their own).
    """

    def __init__(self, *, interval: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.tally = SendTally(interval=interval, now=clock())
        self._lock = threading.Lock()

    def note(self, tried: Tried) -> None:
        """Count one run of the send actor; log the summary if it is due."""
        with self._lock:
            now = self.clock()
            due = self.tally.note(tried, now=now)
            report = self.tally.report(now=now) if due else None
        if report is not None:
            log.info(summary(*report))

    def flush(self) -> None:
        """Log what was counted since the last line, if anything (the worker stops)."""
        with self._lock:
            counts, span = self.tally.report(now=self.clock())
        if counts:
            log.info(summary(counts, span))
