"""When a failed callback is posted again: about three days of tries, jittered, never
sooner than the receiver asked."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.callbacks.retry_schedule import next_delay, parse_retry_after

S, M, H = dt.timedelta(seconds=1), dt.timedelta(minutes=1), dt.timedelta(hours=1)
NOMINAL = [0 * S, 5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 14 * H, 20 * H, 24 * H]
NOW = dt.datetime(2025, 3, 4, 12, 0, tzinfo=dt.UTC)
DRAWS = st.floats(min_value=0, max_value=1, exclude_max=True)


def test_the_middle_draw_gives_the_nominal_schedule() -> None:
    assert [next_delay(attempts, draw=0.5) for attempts in range(10)] == NOMINAL


def test_the_schedule_spans_about_three_days_then_ends() -> None:
    waits = []
    attempts = 0
    while (wait := next_delay(attempts, draw=0.5)) is not None:
        waits.append(wait)
        attempts += 1
    assert attempts == 10
    assert dt.timedelta(days=3) < sum(waits, dt.timedelta()) < dt.timedelta(days=3, hours=4)
    assert next_delay(10, draw=0.5, retry_after=5 * S) is None


@given(attempts=st.integers(0, 9), draw=DRAWS)
def test_jitter_stays_within_a_tenth_either_way(attempts: int, draw: float) -> None:
    wait = next_delay(attempts, draw=draw)
    assert wait is not None
    assert NOMINAL[attempts] * 0.9 <= wait <= NOMINAL[attempts] * 1.1


def test_jitter_spreads_the_waits() -> None:
    low, high = next_delay(4, draw=0.0), next_delay(4, draw=0.999)
    assert low is not None and high is not None
    assert high - low > 20 * M


@given(attempts=st.integers(0, 9), draw=DRAWS, asked=st.integers(0, 86_400))
def test_never_sooner_than_retry_after(attempts: int, draw: float, asked: int) -> None:
    wait = next_delay(attempts, draw=draw, retry_after=dt.timedelta(seconds=asked))
    plain = next_delay(attempts, draw=draw)
    assert wait is not None and plain is not None
    assert wait == max(plain, dt.timedelta(seconds=asked))


def test_a_retry_after_beyond_a_day_waits_a_day() -> None:
    assert next_delay(1, draw=0.5, retry_after=dt.timedelta(days=30)) == 24 * H


@pytest.mark.parametrize(("attempts", "draw"), [(-1, 0.5), (1, 1.0), (1, -0.1)])
def test_nonsense_arguments_are_refused(attempts: int, draw: float) -> None:
    with pytest.raises(ValueError):
        next_delay(attempts, draw=draw)


@pytest.mark.parametrize(("header", "wait"), [
    ("120", 2 * M),
    (" 30 ", 30 * S),
    ("0", 0 * S),
    ("1.5", 1.5 * S),
    ("Tue, 04 Mar 2025 12:05:00 GMT", 5 * M),
    ("Tue, 04 Mar 2025 12:05:00 -0000", 5 * M),
    ("Tue, 04 Mar 2025 08:05:00 -0400", 5 * M),
    ("Tue, 04 Mar 2025 11:00:00 GMT", 0 * S),  # already past: at once
    ("999999999", 24 * H),
    ("1e300", 24 * H),
    ("Fri, 31 Dec 9999 23:59:59 GMT", 24 * H),
])
def test_retry_after_in_seconds_or_as_a_date(header: str, wait: dt.timedelta) -> None:
    assert parse_retry_after(header, now=NOW) == wait


@pytest.mark.parametrize("header", [
    None, "", "soon", "inf", "-inf", "nan", "-3", "1e400", "0x10", "Mon, 99 Foo 2025 99:99",
])
def test_a_retry_after_that_means_nothing_is_ignored(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None
