"""``notifier dead-letters list|requeue|discard`` on dead letters a real worker made."""

from __future__ import annotations

import getpass
import json
import os

import pytest

from notifier.cli import main
from notifier.operations.dead_letters import list_dead, operator_actions
from notifier.operations.queues import queue_depths
from tests.integration.conftest import Gateway
from tests.integration.test_operations_dead_letters import PATIENT_DATA, kill_intake


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, gateway: Gateway) -> None:
    for name in [name for name in os.environ if name.startswith("NOTIFIER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NOTIFIER_REDIS_URL", gateway.settings.redis_url or "")


def test_list_prints_a_safe_table_and_json(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    (event_id,) = kill_intake(gateway)
    (letter,) = list_dead(gateway.client, gateway.settings)

    assert main(["dead-letters", "list"]) == 0
    text = capsys.readouterr().out
    assert main(["dead-letters", "list", "--queue", "intake", "--json", "--lang", "fr"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert main(["dead-letters", "list", "--queue", "send"]) == 0
    empty = capsys.readouterr().out

    header, row, reason = text.splitlines()
    assert header.split()[:4] == ["failed", "at", "(UTC)", "queue"]
    assert letter.message_id in row and f"event_id={event_id}" in row
    assert reason.strip().startswith("reason: InvalidEvent: appointment: reason_for_visit")
    assert [item["message_id"] for item in listed] == [letter.message_id]
    assert empty.strip() == "No dead letters."
    for secret in PATIENT_DATA:
        assert secret not in text and secret not in json.dumps(listed, ensure_ascii=False)


def test_requeue_and_discard_are_recorded_as_the_os_user(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    kill_intake(gateway, 3)
    first, second, third = list_dead(gateway.client, gateway.settings)

    assert main(["dead-letters", "requeue", first.message_id, "--queue", "intake",
                 "--reason", "booking system fixed"]) == 0
    assert main(["dead-letters", "discard", second.message_id, "--queue", "intake",
                 "--reason", "duplicate"]) == 0
    assert main(["dead-letters", "discard", second.message_id, "--queue", "intake",
                 "--reason", "duplicate"]) == 1
    assert main(["dead-letters", "requeue", "--all", "--queue", "intake",
                 "--reason", "all of them"]) == 0
    out, err = capsys.readouterr()

    assert "requeued dead letter" in out and "requeued 1 dead letter(s)" in out
    assert "nothing changed" in err
    depth, *_ = queue_depths(gateway.client, gateway.settings)
    assert (depth.ready, depth.dead) == (2, 0)
    actions = operator_actions(gateway.client, gateway.settings)
    assert [(a.action, a.message_id, a.reason) for a in actions] == [
        ("requeue", third.message_id, "all of them"),
        ("discard", second.message_id, "duplicate"),
        ("requeue", first.message_id, "booking system fixed"),
    ]
    assert {a.actor for a in actions} == {getpass.getuser()}


def test_a_reason_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dead-letters", "discard", "x", "--queue", "intake", "--reason", " "]) == 2
    assert "must say why" in capsys.readouterr().err
