"""The send actor counts what each run came to, through a real Dramatiq worker."""

from __future__ import annotations

import json
import logging

import pytest

from notifier.store.intake import Intake
from tests.factories import event, local
from tests.integration.conftest import Gateway


def test_the_send_actor_counts_each_run_by_outcome(
    gateway: Gateway, caplog: pytest.LogCaptureFixture,
) -> None:
    now = gateway.clock()
    intake = Intake(gateway.client, gateway.settings)
    intake.accept(event("booked", start=local(2026, 12, 1, 9, 30), at=now,
                        modes=("sms", "email")), now)
    payloads = [json.loads(p) for p in intake.schedule.claim(now)]
    assert len(payloads) == 2
    for _ in range(2):  # each redelivered once done: sent, then already done
        for payload in payloads:
            gateway.actors.send.send(payload)
        gateway.drain()

    caplog.set_level(logging.INFO)
    gateway.actors.summary.flush()

    (line,) = [r.getMessage() for r in caplog.records if r.name == "notifier.send_summary"]
    assert line.startswith("sends in the last ")
    assert line.endswith(": 2 sent, 0 suppressed, 0 deferred, 2 already done, 0 retried, "
                         "0 failed, 0 crashed")
