"""How long a message waits before its next try after a provider failure.

Pure: :func:`retry_delay` takes the number of failed tries so far (creates and look-ups
alike) and a random draw, so tests replay any schedule. Delays double from
:data:`FIRST_DELAY` up to :data:`MAX_DELAY`, each shortened by up to :data:`JITTER` of
itself at random, so that the messages one outage held back do not all come back at the
same instant. A provider's ``Retry-After`` is a floor: never sooner than it asked, never
more often than the schedule. The message's deadline, not a count, ends the tries (see
:mod:`notifier.sending`).

Twilio asks for exponential back-off on its 5xx answers, and its incidents last from
minutes to hours: short fixed delays would spend a message's chances in the first minute.
The cap keeps a message that waits out a long incident from coming back much later than
the provider does.
"""

from __future__ import annotations

import datetime as dt

FIRST_DELAY = dt.timedelta(seconds=10)
MAX_DELAY = dt.timedelta(minutes=5)
JITTER = 0.25


def retry_delay(failures: int, *, draw: float, retry_after: float | None = None) -> dt.timedelta:
    """The wait before the next try.

    Parameters:
      failures: failed tries so far, this one included (1 after the first failure).
      draw: a random number in [0, 1): how much of the jitter is taken off.
      retry_after: seconds the provider asked us to wait, if it said.
    """
    doublings = max(0, min(failures - 1, 16))
    nominal = min(FIRST_DELAY * (1 << doublings), MAX_DELAY)
    delay = nominal * (1 - JITTER * draw)
    if retry_after is not None:
        delay = max(delay, dt.timedelta(seconds=retry_after))
    return delay
