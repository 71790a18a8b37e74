"""``notifier appointment reset-version``: an operator frees an appointment that a stray
event with a huge version froze, and the story says who did it and why."""

from __future__ import annotations

import getpass
import os

import pytest

from notifier.cli import main
from notifier.names import INTAKE_QUEUE
from notifier.operations.dead_letters import operator_actions
from notifier.operations.story import appointment_story
from notifier.store.intake import Intake
from tests.browser.console_seed import ALICE
from tests.factories import event, local
from tests.integration.conftest import Gateway
from tests.integration.test_console import make_console

START = local(2026, 12, 1, 9, 30)
FROZEN = 2**31 - 1


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, gateway: Gateway) -> None:
    for name in [name for name in os.environ if name.startswith("NOTIFIER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NOTIFIER_REDIS_URL", gateway.settings.redis_url or "")


def frozen_appointment(gateway: Gateway) -> Intake:
    """An appointment whose first event carried the largest version the contract allows."""
    intake = Intake(gateway.client, gateway.settings)
    gateway.actors.intake.send(event("booked", version=FROZEN, start=START,
                                     at=gateway.clock()).model_dump(mode="json"))
    gateway.drain(INTAKE_QUEUE)
    return intake


def test_a_reset_version_lets_the_next_real_event_through_and_is_in_the_story(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    intake = frozen_appointment(gateway)
    moved = local(2026, 12, 2, 9, 30)
    real = event("modified", version=4, start=moved, at=gateway.clock())
    assert intake.accept(real, gateway.clock()).body["reason"] == "stale_version"

    status = main(["appointment", "reset-version", "0000000001", "--to", "3",
                   "--reason", "stray event from the test booking system"])

    assert status == 0
    out = capsys.readouterr().out
    assert out.strip() == (f"appointment 0000000001: version {FROZEN} -> 3; recorded in its "
                           "story and the audit")
    again = event("modified", version=4, start=moved, at=gateway.clock())
    assert intake.accept(again, gateway.clock()).status_code == 202
    state = intake.load("0000000001")
    assert state is not None and state.version == 4 and state.appointment.start == moved
    story = appointment_story(gateway.client, gateway.settings, "0000000001")
    assert story is not None
    (reset,) = [e for e in story.entries if e.what == "version_reset"]
    assert reset.details == {"version": 3, "previous_version": FROZEN,
                             "actor": getpass.getuser(),
                             "reason": "stray event from the test booking system"}
    (action,) = operator_actions(gateway.client, gateway.settings)
    assert (action.action, action.actor, action.summary) == (
        "reset_version", getpass.getuser(),
        {"reference": "0000000001", "from": str(FROZEN), "to": "3"})


def test_an_unknown_appointment_is_reported_and_nothing_is_written(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["appointment", "reset-version", "0000000009", "--to", "1",
                   "--reason", "typo check"])

    assert status == 1
    assert "no appointment 0000000009" in capsys.readouterr().err
    assert gateway.client.dbsize() == 0


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["0000000001", "--to", "0", "--reason", "x"], "--to"),
        (["0000000001", "--to", str(2**31), "--reason", "x"], "--to"),
        (["0000000001", "--to", "3", "--reason", " "], "must say why"),
        (["12345", "--to", "3", "--reason", "x"], "10-digit"),
        # Digits of another script are digits to str.isdigit, never in a reference.
        (["\u0661" * 10, "--to", "3", "--reason", "x"], "10-digit"),
        (["0000000001", "--to", "3"], "--reason"),
    ],
)
def test_the_command_refuses_a_bad_argument_with_one_clear_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    assert main(["appointment", "reset-version", *argv]) == 2
    assert error in capsys.readouterr().err


def test_the_console_shows_the_reset_in_the_story_and_the_operators_actions(
    gateway: Gateway,
) -> None:
    frozen_appointment(gateway)
    assert main(["appointment", "reset-version", "0000000001", "--to", "3",
                 "--reason", "événement de test envoyé en production"]) == 0
    console = make_console(gateway)
    console.sign_in(ALICE)

    story = console.http.get("/console/story?reference=0000000001").text
    actions = console.http.get("/console/dead-letters").text

    assert "Version corrigée par un opérateur" in story
    assert f"v{FROZEN} → v3" in story
    assert f"Par {getpass.getuser()}" in story
    assert "événement de test envoyé en production" in story
    assert "version corrigée" in actions and "0000000001" in actions
