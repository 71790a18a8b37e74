"""A worker's sends as one INFO line per interval, counted by outcome, with no key or
address in it."""

from __future__ import annotations

import logging

import pytest

from notifier.actors import _TRIED
from notifier.send_summary import SendSummary, SendTally, Tried, summary
from notifier.sending import SendOutcome


class Ticks:
    """Monotonic seconds a test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "notifier.send_summary" and r.levelno == logging.INFO]


def test_a_summary_is_due_once_the_interval_has_passed_since_the_last() -> None:
    tally = SendTally(interval=60, now=100.0)

    assert not tally.note(Tried.SENT, now=100.0)
    assert not tally.note(Tried.SENT, now=159.9)
    assert tally.note(Tried.RETRIED, now=160.0)
    assert tally.report(now=160.0) == ({Tried.SENT: 2, Tried.RETRIED: 1}, 60.0)
    assert not tally.note(Tried.FAILED, now=219.0)
    assert tally.report(now=230.0) == ({Tried.FAILED: 1}, 70.0)


def test_the_line_counts_every_outcome_zeros_included() -> None:
    counts = {Tried.SENT: 120, Tried.SUPPRESSED: 3, Tried.DEFERRED: 1, Tried.RETRIED: 2}
    assert summary(counts, 60.4) == (
        "sends in the last 60 s: 120 sent, 3 suppressed, 1 deferred, 0 already done, "
        "2 retried, 0 failed, 0 crashed"
    )


def test_one_line_on_the_first_send_after_the_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    ticks = Ticks()
    sends = SendSummary(interval=60, clock=ticks)
    for _ in range(5):
        sends.note(Tried.SENT)
        ticks.now += 10
    sends.note(Tried.SUPPRESSED)  # 50 s in
    assert lines(caplog) == []

    ticks.now += 15  # 65 s in: the next send writes the line
    sends.note(Tried.DEFERRED)
    assert lines(caplog) == [
        "sends in the last 65 s: 5 sent, 1 suppressed, 1 deferred, 0 already done, "
        "0 retried, 0 failed, 0 crashed"
    ]

    ticks.now += 30
    sends.note(Tried.CRASHED)
    ticks.now += 5
    sends.flush()  # the worker stops: what was counted since is not lost
    sends.flush()  # nothing more to say
    assert lines(caplog)[1:] == [
        "sends in the last 35 s: 0 sent, 0 suppressed, 0 deferred, 0 already done, "
        "0 retried, 0 failed, 1 crashed"
    ]


def test_a_quiet_worker_writes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    ticks = Ticks()
    sends = SendSummary(interval=60, clock=ticks)
    ticks.now += 3600
    sends.flush()
    assert lines(caplog) == []


def test_every_outcome_of_the_send_step_is_counted_apart() -> None:
    assert set(_TRIED) == set(SendOutcome)
    assert len(set(_TRIED.values())) == len(SendOutcome)
