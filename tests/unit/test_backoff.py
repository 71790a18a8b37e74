"""The retry delays after a provider failure: doubling, capped, jittered, Retry-After a floor."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from notifier.backoff import FIRST_DELAY, JITTER, MAX_DELAY, retry_delay

SECOND = dt.timedelta(seconds=1)


def test_without_jitter_delays_double_from_ten_seconds_up_to_five_minutes() -> None:
    delays = [retry_delay(n, draw=0.0) / SECOND for n in range(1, 10)]
    assert delays == [10, 20, 40, 80, 160, 300, 300, 300, 300]


def test_the_jitter_takes_off_at_most_a_quarter() -> None:
    assert retry_delay(1, draw=0.999999) > FIRST_DELAY * 0.75
    assert retry_delay(6, draw=0.5) == MAX_DELAY * (1 - JITTER / 2)


@given(st.integers(1, 10_000), st.floats(0, 1, exclude_max=True),
       st.floats(0, 1, exclude_max=True))
def test_delays_grow_until_the_cap_whatever_the_jitter(
    failures: int, first: float, second: float
) -> None:
    now, then = retry_delay(failures, draw=first), retry_delay(failures + 1, draw=second)
    assert MAX_DELAY * (1 - JITTER) <= then <= MAX_DELAY or then > now
    assert FIRST_DELAY * (1 - JITTER) < now <= MAX_DELAY


def test_retry_after_is_a_floor_never_a_shortcut() -> None:
    assert retry_delay(1, draw=0.0, retry_after=45) == dt.timedelta(seconds=45)
    assert retry_delay(6, draw=0.0, retry_after=1) == MAX_DELAY  # not every second
    assert retry_delay(1, draw=0.0, retry_after=3_600) == dt.timedelta(hours=1)
