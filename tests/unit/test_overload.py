"""One summary line per interval, whatever the number of connections closed."""

from __future__ import annotations

from notifier.web.overload import Closed, OverloadTally


def test_the_first_closing_is_reported_at_once_then_at_most_once_per_interval() -> None:
    tally = OverloadTally(interval=60)

    assert tally.note(Closed.IDLE, now=100.0) == 100.0
    assert tally.report(now=100.0) == {Closed.IDLE: 1}
    assert tally.note(Closed.IDLE, now=101.0) == 160.0
    for second in range(1000):
        assert tally.note(Closed.EVICTED, now=101.0 + second / 100) is None
    assert tally.report(now=160.0) == {Closed.IDLE: 1, Closed.EVICTED: 1000}
    assert tally.note(Closed.REFUSED, now=500.0) == 500.0
