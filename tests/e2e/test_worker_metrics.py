"""A worker started with ``NOTIFIER_WORKER_METRICS_PORT`` serves Dramatiq's own metrics."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from notifier.local_redis import free_port
from notifier.store.intake import Intake
from tests.e2e.conftest import Launch
from tests.factories import ZONE, event
from tests.fakes.twilio_server import FakeTwilio
from tests.harness import GatewayConfig, wait_until

pytestmark = pytest.mark.slow


def sent_by_the_send_actor(port: int) -> float:
    """``dramatiq_messages_total`` for the send actor, as the worker serves it now."""
    try:
        body = httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text
    except httpx.HTTPError:
        return 0.0  # the metrics server is still starting
    return sum(
        sample.value for family in text_string_to_metric_families(body)
        for sample in family.samples
        if sample.name == "dramatiq_messages_total"
        and sample.labels.get("actor_name") == "send_message"
    )


def test_a_worker_serves_dramatiqs_metrics_on_the_port_set(
    base_config: GatewayConfig, launch: Launch, fake_twilio: FakeTwilio,
) -> None:
    port = free_port()
    processes = launch(base_config.with_values(worker_metrics_port=port))
    processes.start_worker(processes=1, threads=2, through_cli=True)
    processes.start_scheduler()
    now = dt.datetime.now(dt.UTC)
    start = (now + dt.timedelta(days=5)).astimezone(ZONE).replace(hour=10, minute=0)
    booked = event("booked", start=start, at=now, modes=("sms",))
    assert Intake(processes.redis, processes.settings).accept(booked, now).status_code == 202

    fake_twilio.wait_for_messages(1, timeout=30)
    wait_until(lambda: sent_by_the_send_actor(port) >= 1, timeout=30,
               what="the worker's metrics to count the send")


def test_a_worker_not_started_by_notifier_worker_says_how_to_get_its_metrics(
    base_config: GatewayConfig, tmp_path: Path,
) -> None:
    config = base_config.with_values(worker_metrics_port=free_port())
    finished = subprocess.run(
        [sys.executable, "-c", "import notifier.worker"], env=config.environment(),
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )

    assert finished.returncode == 1
    assert finished.stderr.strip().splitlines()[-1] == (
        "NOTIFIER_WORKER_METRICS_PORT is set: start workers with `notifier worker` "
        "(not `dramatiq notifier.worker`) so that Dramatiq's metrics server gets it"
    )
