"""``notifier optout show|set|clear|export`` against the tests' own Redis."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from pathlib import Path

import pytest
import redis

from notifier.cli import main
from notifier.domain import Channel
from notifier.opt_outs import OptOutSource
from notifier.settings import Settings
from notifier.store.optouts import OptOutStore

PATIENT = "+15145550123"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    for name in [name for name in os.environ if name.startswith("NOTIFIER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NOTIFIER_REDIS_URL", redis_url)


@pytest.fixture
def store(redis_client: redis.Redis) -> OptOutStore:
    return OptOutStore(redis_client, Settings())


def test_set_opts_the_number_out_as_the_operator_with_the_reason(
    store: OptOutStore, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["optout", "set", "+1 514 555-0123", "--reason", "asked at the front desk"])

    assert status == 0
    assert store.is_opted_out(PATIENT)
    (entry,) = store.audit(PATIENT)
    assert (entry.source, entry.reason, entry.channel) == (
        "operator", "asked at the front desk", Channel.SMS,
    )
    output = capsys.readouterr().out
    assert "now opted out of sms" in output
    assert PATIENT not in output


def test_set_twice_says_nothing_changed(
    store: OptOutStore, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["optout", "set", PATIENT, "--reason", "first"])

    assert main(["optout", "set", PATIENT, "--reason", "second"]) == 0
    assert "already opted out" in capsys.readouterr().out
    assert len(store.audit(PATIENT)) == 1


def test_clear_opts_the_number_back_in_on_its_channel_only(store: OptOutStore) -> None:
    for channel in (Channel.SMS, Channel.VOICE):
        store.opt_out(PATIENT, channel=channel, source=OptOutSource.SMS_KEYWORD,
                      now=dt.datetime(2026, 11, 24, tzinfo=dt.UTC))

    status = main(["optout", "clear", PATIENT, "--channel", "voice",
                   "--reason", "patient asked for calls again"])

    assert status == 0
    assert not store.is_opted_out(PATIENT, Channel.VOICE)
    assert store.is_opted_out(PATIENT, Channel.SMS)
    assert store.audit(PATIENT)[-1].reason == "patient asked for calls again"


def test_show_prints_the_state_and_its_changes(
    store: OptOutStore, capsys: pytest.CaptureFixture[str]
) -> None:
    at = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.UTC)
    store.opt_out(PATIENT, source=OptOutSource.SMS_KEYWORD, keyword="ARRET",
                  provider_message_id="SM42", now=at)

    assert main(["optout", "show", PATIENT]) == 0

    output = capsys.readouterr().out
    assert "OPTED OUT since 2026-11-24T15:30:00+00:00 (sms-keyword, keyword ARRET)" in output
    assert "opted_in -> opted_out" in output and "message SM42" in output
    assert PATIENT not in output


def test_show_of_an_unknown_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["optout", "show", PATIENT, "--channel", "voice"]) == 0

    assert "voice" in capsys.readouterr().out


def test_export_writes_csv_to_a_file(
    store: OptOutStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["optout", "set", PATIENT, "--reason", "asked"])
    target = tmp_path / "optouts.csv"

    assert main(["optout", "export", "--output", str(target)]) == 0

    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [(r["number"], r["state"], r["source"]) for r in rows] == [
        (PATIENT, "opted_out", "operator")
    ]
    assert "exported 1" in capsys.readouterr().err


def test_export_to_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    main(["optout", "set", PATIENT, "--channel", "voice", "--reason", "asked"])
    capsys.readouterr()

    assert main(["optout", "export"]) == 0

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["number"], r["channel"]) for r in rows] == [(PATIENT, "voice")]


@pytest.mark.parametrize("number", ["416-555-0199", "+1416555", "+33 not a number"])
def test_a_bad_number_is_refused_with_one_clear_line(
    store: OptOutStore, capsys: pytest.CaptureFixture[str], number: str
) -> None:
    status = main(["optout", "set", number, "--reason", "asked"])

    assert status == 2
    error = capsys.readouterr().err
    assert "NUMBER: must be a phone number in international form" in error
    assert number not in error
    assert store.counts()["audit"] == 0


@pytest.mark.parametrize("reason", [[], ["--reason", "   "]], ids=["missing", "blank"])
def test_set_and_clear_need_a_reason(
    store: OptOutStore, capsys: pytest.CaptureFixture[str], reason: list[str]
) -> None:
    for action in ("set", "clear"):
        assert main(["optout", action, PATIENT, *reason]) == 2
        assert "--reason" in capsys.readouterr().err
    assert store.counts()["audit"] == 0


def test_without_a_redis_url_it_stops_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NOTIFIER_REDIS_URL")

    assert main(["optout", "show", PATIENT]) == 2
    error = capsys.readouterr().err
    assert "NOTIFIER_REDIS_URL" in error and "optout command" in error
