"""The alert rules, evaluated on a health summary built by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from notifier.domain import Lang
from notifier.operations.alerts import RULE_WORDS, RULES, Rule, RuleState, changes, evaluate
from notifier.operations.callbacks import CallbackSummary
from notifier.operations.status import HealthSummary
from notifier.settings import Settings

NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)


def healthy() -> HealthSummary:
    return HealthSummary(
        checked_at=NOW, queues=[], live_workers=2, scheduler_last_run=NOW,
        scheduler_stale=False, schedule_size={}, due_next_hour=0, overdue=0,
        deliveries_last_hour={}, delivery_rate=None, dead_letters=0, opt_outs={},
        callbacks=CallbackSummary(checked_at=NOW, waiting=0, oldest_due=None, dead=0,
                                  endpoints={}, delivered=0, failed=0),
    )


def firing(states: list[RuleState]) -> set[Rule]:
    return {s.rule for s in states if s.firing}


def test_a_healthy_gateway_fires_no_rule() -> None:
    states = evaluate(healthy(), NOW)
    assert [s.rule for s in states] == list(RULES)
    assert firing(states) == set()
    assert all(s.since is None for s in states)


def test_each_condition_fires_its_own_rule() -> None:
    cases = {
        Rule.DEAD_LETTERS: {"dead_letters": 3},
        Rule.SCHEDULER_STALE: {"scheduler_stale": True},
        Rule.NO_LIVE_WORKERS: {"live_workers": 0},
        Rule.DELIVERY_RATE_FALLING: {"warnings": ["low_delivery_rate"]},
    }
    for rule, change in cases.items():
        assert firing(evaluate(dataclasses.replace(healthy(), **change), NOW)) == {rule}


def test_other_warnings_fire_nothing() -> None:
    summary = dataclasses.replace(healthy(), warnings=["overdue", "callbacks_late"])
    assert firing(evaluate(summary, NOW)) == set()


def test_since_comes_from_the_record_and_a_stale_scheduler_from_its_last_pass() -> None:
    last_pass = NOW - dt.timedelta(minutes=7)
    summary = dataclasses.replace(healthy(), scheduler_stale=True, scheduler_last_run=last_pass,
                                  dead_letters=1)
    recorded = {Rule.DEAD_LETTERS: NOW - dt.timedelta(hours=2)}
    states = {s.rule: s for s in evaluate(summary, NOW, firing_since=recorded)}
    assert states[Rule.DEAD_LETTERS].since == NOW - dt.timedelta(hours=2)
    assert states[Rule.SCHEDULER_STALE].since == last_pass
    assert states[Rule.NO_LIVE_WORKERS].since is None


def test_a_record_of_a_rule_now_fine_gives_no_since_and_a_future_one_is_not_believed() -> None:
    recorded = {Rule.DEAD_LETTERS: NOW - dt.timedelta(hours=1),
                Rule.NO_LIVE_WORKERS: NOW + dt.timedelta(hours=1)}
    summary = dataclasses.replace(healthy(), live_workers=0)
    states = {s.rule: s for s in evaluate(summary, NOW, firing_since=recorded)}
    assert states[Rule.DEAD_LETTERS] == RuleState(Rule.DEAD_LETTERS, False, None)
    assert states[Rule.NO_LIVE_WORKERS] == RuleState(Rule.NO_LIVE_WORKERS, True, None)


def test_changes_are_the_rules_whose_state_differs_from_the_record() -> None:
    summary = dataclasses.replace(healthy(), live_workers=0, dead_letters=2)
    recorded = {Rule.DEAD_LETTERS: NOW, Rule.DELIVERY_RATE_FALLING: NOW}
    told = changes(evaluate(summary, NOW, firing_since=recorded), recorded)
    assert {(s.rule, s.firing) for s in told} == {(Rule.NO_LIVE_WORKERS, True),
                                                  (Rule.DELIVERY_RATE_FALLING, False)}


def test_every_rule_has_words_in_both_languages() -> None:
    for rule in RULES:
        words = RULE_WORDS[rule]
        for text in (*words.name, *words.action):
            assert text.strip()
        assert words.name[Lang.FR] != words.name[Lang.EN]
        assert "'" not in words.action[Lang.FR]  # the typographic apostrophe in French


def test_an_on_call_address_needs_a_mail_server_to_send_through() -> None:
    with pytest.raises(ValueError, match="NOTIFIER_SMTP_HOST is required"):
        Settings(api_token="t" * 32, alert_email="on-call@clinic.example.org")
    assert Settings(api_token="t" * 32, alert_email="on-call@clinic.example.org",
                    smtp_host="127.0.0.1").alert_email == "on-call@clinic.example.org"
