"""Sending windows: local hours that keep their meaning across time zones and DST."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from notifier.sending_window import ANY_TIME, DailyHours, SendingWindow, place_in_window

ZONES = [
    ZoneInfo(name)
    for name in (
        "America/Toronto",
        "America/Montreal",
        "America/Vancouver",
        "America/St_Johns",
        "America/Halifax",
    )
]

SMS = SendingWindow.parse("mon-sun 08:00-21:00")
VOICE = SendingWindow.parse("mon-fri 09:00-21:30; sat-sun 10:00-18:00")


def _minutes(value: int) -> dt.time:
    return dt.time(value // 60, value % 60)


@st.composite
def daily_hours(draw: st.DrawFn, *, earliest: int = 0) -> DailyHours:
    opens = draw(st.integers(min_value=earliest, max_value=23 * 60 + 58))
    closes = draw(st.integers(min_value=opens + 1, max_value=23 * 60 + 59))
    return DailyHours(_minutes(opens), _minutes(closes))


@st.composite
def windows(draw: st.DrawFn, *, earliest: int = 0) -> SendingWindow:
    days = draw(st.lists(st.none() | daily_hours(earliest=earliest), min_size=7, max_size=7))
    assume(any(days))
    return SendingWindow(tuple(days))


# Instants over years with DST changes, to the second, in UTC.
instants = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2031, 12, 31)
).map(lambda naive: naive.replace(microsecond=0, tzinfo=dt.UTC))
zones = st.sampled_from(ZONES)

# DST changes happen at 02:00 local in these zones; a window whose hours avoid the small
# hours is unambiguous on the wall clock every day of the year.
AFTER_SMALL_HOURS = 3 * 60


def _inside_on_wall_clock(window: SendingWindow, at: dt.datetime, zone: ZoneInfo) -> bool:
    assert window.hours is not None
    local = at.astimezone(zone)
    daily = window.hours[local.weekday()]
    return daily is not None and daily.opens <= local.time().replace(tzinfo=None) < daily.closes


@given(windows(), instants, zones)
def test_first_opening_is_never_before_and_is_a_fixed_point(
    window: SendingWindow, at: dt.datetime, zone: ZoneInfo
) -> None:
    opening = window.first_opening(at, zone)
    assert opening >= at
    assert opening.utcoffset() == dt.timedelta(0)
    assert window.first_opening(opening, zone) == opening
    assert window.contains(opening, zone)


@given(windows(earliest=AFTER_SMALL_HOURS), instants, zones)
def test_first_opening_is_inside_the_local_hours(
    window: SendingWindow, at: dt.datetime, zone: ZoneInfo
) -> None:
    opening = window.first_opening(at, zone)
    assert _inside_on_wall_clock(window, opening, zone)
    if opening > at:
        # Nothing earlier was open: "at" was outside, and the result is an opening time.
        assert not _inside_on_wall_clock(window, at, zone)
        local = opening.astimezone(zone)
        assert window.hours is not None
        daily = window.hours[local.weekday()]
        assert daily is not None and local.time().replace(tzinfo=None) == daily.opens


@given(windows(earliest=AFTER_SMALL_HOURS), instants, st.floats(0, 1), zones)
def test_no_instant_between_due_and_opening_is_open(
    window: SendingWindow, at: dt.datetime, fraction: float, zone: ZoneInfo
) -> None:
    opening = window.first_opening(at, zone)
    between = at + (opening - at) * fraction
    assume(between < opening)
    assert not _inside_on_wall_clock(window, between, zone)


@given(windows(), instants, st.integers(min_value=0, max_value=10 * 24 * 3600), zones)
def test_place_in_window_is_before_the_deadline_and_idempotent(
    window: SendingWindow, due: dt.datetime, seconds: int, zone: ZoneInfo
) -> None:
    deadline = due + dt.timedelta(seconds=seconds)
    placed = place_in_window(due, deadline, window, zone)
    opening = window.first_opening(due, zone)
    if placed is None:
        assert opening >= deadline
        return
    assert due <= placed < deadline
    assert placed == opening
    assert place_in_window(placed, deadline, window, zone) == placed


@given(instants, zones)
def test_any_time_places_at_due(due: dt.datetime, zone: ZoneInfo) -> None:
    assert place_in_window(due, due + dt.timedelta(seconds=1), ANY_TIME, zone) == due
    assert place_in_window(due, due, ANY_TIME, zone) is None


def _dst_days(year: int) -> list[dt.date]:
    """Every day from late February to late March and late October to mid-November."""
    spans = ((dt.date(year, 2, 25), 28), (dt.date(year, 10, 25), 24))
    return [first + dt.timedelta(days=n) for first, count in spans for n in range(count)]


@pytest.mark.parametrize("zone", ZONES, ids=str)
@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_nine_oclock_stays_nine_oclock_across_dst(zone: ZoneInfo, year: int) -> None:
    window = SendingWindow.parse("mon-sun 09:00-17:00")
    offsets = set()
    for day in _dst_days(year):
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        opening = window.first_opening(midnight, zone).astimezone(zone)
        assert (opening.date(), opening.time()) == (day, dt.time(9, 0))
        closing_soon = dt.datetime.combine(day, dt.time(16, 59), tzinfo=zone)
        assert window.contains(closing_soon, zone)
        assert not window.contains(closing_soon + dt.timedelta(minutes=1), zone)
        offsets.add(opening.utcoffset())
    assert len(offsets) == 2, "the span crosses both DST changes"


def test_spring_forward_night_sms_waits_for_eight_local() -> None:
    zone = ZoneInfo("America/Toronto")
    # 2026-03-08 02:30 does not exist in Toronto; 01:30 EST is 06:30 UTC.
    due = dt.datetime(2026, 3, 8, 6, 30, tzinfo=dt.UTC)
    placed = place_in_window(due, due + dt.timedelta(days=1), SMS, zone)
    assert placed == dt.datetime(2026, 3, 8, 12, 0, tzinfo=dt.UTC)  # 08:00 EDT


def test_fall_back_night_sms_waits_for_eight_local() -> None:
    zone = ZoneInfo("America/Vancouver")
    due = dt.datetime(2026, 11, 1, 1, 30, tzinfo=zone)  # the first 01:30 (PDT)
    placed = place_in_window(due, due + dt.timedelta(days=1), SMS, zone)
    assert placed == dt.datetime(2026, 11, 1, 16, 0, tzinfo=dt.UTC)  # 08:00 PST


def test_voice_weekend_hours_are_later() -> None:
    zone = ZoneInfo("America/Halifax")
    saturday_nine = dt.datetime(2026, 6, 6, 9, 0, tzinfo=zone)
    assert VOICE.first_opening(saturday_nine, zone) == saturday_nine.replace(hour=10)
    friday_late = dt.datetime(2026, 6, 5, 21, 30, tzinfo=zone)
    assert VOICE.first_opening(friday_late, zone) == saturday_nine.replace(hour=10)
    assert VOICE.contains(friday_late - dt.timedelta(minutes=1), zone)


def test_closed_days_are_skipped() -> None:
    zone = ZoneInfo("America/St_Johns")
    window = SendingWindow.parse("mon 10:00-11:00")
    tuesday = dt.datetime(2026, 6, 2, 12, 0, tzinfo=zone)
    assert window.first_opening(tuesday, zone) == dt.datetime(2026, 6, 8, 10, 0, tzinfo=zone)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("weekdays 09:00-17:00", "not a window rule"),
        ("mon-fry 09:00-17:00", "days are"),
        ("mon 25:00-26:00", "times are HH:MM"),
        ("mon 17:00-09:00", "open before it closes"),
        ("fri-mon 09:00-17:00", "from Monday towards Sunday"),
        ("", "at least one day"),
    ],
)
def test_parse_refuses_with_a_sentence(spec: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        SendingWindow.parse(spec)


def test_parse_reads_several_rules() -> None:
    window = SendingWindow.parse(" Mon-Fri 09:00-21:30 ; sat 10:00-18:00 ")
    assert window.hours is not None
    assert window.hours[0] == DailyHours(dt.time(9), dt.time(21, 30))
    assert window.hours[5] == DailyHours(dt.time(10), dt.time(18))
    assert window.hours[6] is None
    assert SendingWindow.parse("always") is ANY_TIME


def test_a_window_lost_in_the_spring_forward_gap_opens_the_next_week() -> None:
    # Regression: 02:30-03:00 does not exist on 2026-03-08 in Toronto; first_opening used
    # to answer 03:30 EDT, after the window had closed.
    zone = ZoneInfo("America/Toronto")
    window = SendingWindow.parse("sun 02:30-03:00")
    sunday = dt.datetime(2026, 3, 8, 0, 0, tzinfo=zone)
    assert window.first_opening(sunday, zone) == dt.datetime(2026, 3, 15, 2, 30, tzinfo=zone)
    partly_lost = SendingWindow.parse("sun 02:30-04:00")
    assert partly_lost.first_opening(sunday, zone) == dt.datetime(2026, 3, 8, 3, 30, tzinfo=zone)


@given(windows(earliest=AFTER_SMALL_HOURS), instants, zones)
def test_last_call_is_open_not_later_and_on_the_same_local_day(
    window: SendingWindow, at: dt.datetime, zone: ZoneInfo
) -> None:
    earlier = window.last_call(at, zone)
    if earlier is None:
        assert not _inside_on_wall_clock(window, at, zone)
        return
    assert earlier <= at
    assert earlier.astimezone(zone).date() == at.astimezone(zone).date()
    assert _inside_on_wall_clock(window, earlier, zone)
    if _inside_on_wall_clock(window, at, zone):
        assert earlier == at
