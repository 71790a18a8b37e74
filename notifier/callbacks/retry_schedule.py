"""When a callback that failed is posted again, and when the gateway stops trying.

Pure: :func:`next_delay` takes the number of attempts made and a random draw, so tests
replay any schedule; :func:`parse_retry_after` takes the time to read an HTTP date
against. A callback is posted at once, then again after each of :data:`DELAYS` in turn:
75 hours and a half in all, so that an integrator's outage of a long weekend loses
nothing. Each wait is moved by up to :data:`JITTER` of itself either way, so that the
callbacks one outage held back do not all come back at the same instant. A receiver's
``Retry-After`` is a floor: never sooner than it asked, and never more than
:data:`MAX_RETRY_AFTER` (a receiver cannot stall its callbacks for days with one header).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math

_S, _M, _H = dt.timedelta(seconds=1), dt.timedelta(minutes=1), dt.timedelta(hours=1)
# The wait before each attempt: the first is immediate, the last comes about three days
# after the first.
DELAYS = (0 * _S, 5 * _S, 5 * _M, 30 * _M, 2 * _H, 5 * _H, 10 * _H, 14 * _H, 20 * _H, 24 * _H)
JITTER = 0.1
MAX_RETRY_AFTER = dt.timedelta(hours=24)


def next_delay(
    attempts: int, *, draw: float, retry_after: dt.timedelta | None = None,
) -> dt.timedelta | None:
    """The wait before the next attempt, or None when the schedule is used up.

    Parameters:
      attempts: attempts made so far (0 before the first, 1 after the first failed).
      draw: a random number in [0, 1): where in the jitter this wait falls.
      retry_after: the wait the receiver asked for (see :func:`parse_retry_after`).
    """
    if attempts < 0:
        raise ValueError("attempts cannot be negative")
    if not 0 <= draw < 1:
        raise ValueError("draw must be in [0, 1)")
    if attempts >= len(DELAYS):
        return None
    delay = DELAYS[attempts] * (1 + JITTER * (2 * draw - 1))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def parse_retry_after(value: str | None, *, now: dt.datetime) -> dt.timedelta | None:
    """The wait a ``Retry-After`` header asks for, at most :data:`MAX_RETRY_AFTER`; None
    when there is none or it means nothing.

    Parameters:
      value: the header's value: seconds, or an HTTP date.
      now: the time the answer came (aware), to read a date against.
    """
    value = (value or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return _until_date(value, now=now)
    # "inf", "nan" and negative numbers parse as floats; no receiver means any of them.
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return dt.timedelta(seconds=min(seconds, MAX_RETRY_AFTER.total_seconds()))


def _until_date(value: str, *, now: dt.datetime) -> dt.timedelta | None:
    try:
        until = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if until.tzinfo is None:  # "-0000": UTC, with no zone said
        until = until.replace(tzinfo=dt.UTC)
    return max(dt.timedelta(0), min(until - now, MAX_RETRY_AFTER))
