"""The ``notifier`` command line: argument errors and setting errors, each one clear line."""

from __future__ import annotations

import os
import sys

import pytest

from notifier.cli import main
from notifier.cli.processes import worker_command
from notifier.domain import Kind


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A NOTIFIER_* variable of the shell running the tests must not change their outcome."""
    for name in [name for name in os.environ if name.startswith("NOTIFIER_")]:
        monkeypatch.delenv(name)


def test_an_unknown_kind_is_refused_with_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["preview", "rappel", "--channel", "sms", "--lang", "fr"])

    assert status == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'rappel'" in error
    assert all(kind.value in error for kind in Kind)


@pytest.mark.parametrize(
    ("option", "value", "valid"),
    [("--channel", "fax", ["email", "sms", "voice"]), ("--lang", "de", ["fr", "en"])],
)
def test_an_unknown_channel_or_language_is_refused_with_the_valid_ones(
    capsys: pytest.CaptureFixture[str], option: str, value: str, valid: list[str]
) -> None:
    argv = ["preview", "reminder", "--channel", "sms", "--lang", "fr"]
    argv[argv.index(option) + 1] = value

    assert main(argv) == 2
    error = capsys.readouterr().err
    assert f"invalid choice: '{value}'" in error
    assert all(name in error for name in valid)


def test_a_wrong_setting_stops_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOTIFIER_WINDOW_SMS", "bad")

    status = main(["lint"])

    assert status == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("notifier: setting NOTIFIER_WINDOW_SMS is wrong")


def test_the_web_process_will_not_start_without_a_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["web", "--port", "8123"]) == 2
    assert capsys.readouterr().err == (
        "notifier: setting NOTIFIER_API_TOKEN is missing: "
        "the web process will not serve an open API\n"
    )


def test_the_worker_will_not_start_without_redis(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker"]) == 2
    assert "NOTIFIER_REDIS_URL" in capsys.readouterr().err


def test_help_exits_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "preview" in capsys.readouterr().out


def test_the_reset_version_help_says_when_to_use_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["appointment", "reset-version", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "stale_version" in text and "--to VERSION" in text and "--reason" in text


def test_a_missing_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_the_worker_runs_dramatiq_on_the_worker_module() -> None:
    assert worker_command(processes=2, threads=4) == [
        sys.executable, "-m", "dramatiq", "notifier.worker", "--queues", "intake", "send",
        "--processes", "2", "--threads", "4",
    ]
    assert worker_command(processes=None, threads=None, queues=["callbacks"])[-3:] == [
        "notifier.worker", "--queues", "callbacks"]


def test_a_worker_consumes_only_the_queues_it_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker", "--queues", "mail"]) == 2
    assert "invalid choice: 'mail'" in capsys.readouterr().err


def test_a_worker_count_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker", "--threads", "0"]) == 2
    assert "'0' is not a whole number of 1 or more" in capsys.readouterr().err
