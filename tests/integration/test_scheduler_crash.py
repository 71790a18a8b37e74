"""A scheduler killed (SIGKILL) between claim and hand-off loses nothing and doubles nothing."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from notifier.names import SEND_QUEUE
from notifier.scheduler import Scheduler
from notifier.store.intake import Intake
from tests.factories import event, local
from tests.integration.conftest import Gateway

# Runs one scheduler pass in its own process, which kills itself as soon as it has claimed.
_DOOMED_SCHEDULER = """
import datetime as dt, os, signal, sys
import redis
from notifier.scheduler import Scheduler
from notifier.settings import Settings

settings = Settings(redis_url=sys.argv[1], outbox_dir=sys.argv[2])
now = dt.datetime.fromisoformat(sys.argv[3])
clock = lambda: now
client = redis.Redis.from_url(settings.redis_url)

def die(claimed):
    if claimed:
        os.kill(os.getpid(), signal.SIGKILL)

Scheduler(client, settings, clock=clock, after_claim=die).run_once()
"""


def test_a_scheduler_killed_after_claiming_loses_nothing(gateway: Gateway) -> None:
    now = gateway.clock()
    intake = Intake(gateway.client, gateway.settings)
    intake.accept(event("booked", start=local(2026, 12, 1, 9, 30), at=now, modes=("email",)), now)

    doomed = subprocess.run(
        [sys.executable, "-c", _DOOMED_SCHEDULER, gateway.settings.redis_url or "",
         str(gateway.outbox), now.isoformat()],
        capture_output=True, timeout=60, check=False,
    )

    assert doomed.returncode == -9, doomed.stderr.decode()
    assert intake.schedule.claimed_count() == 1
    assert gateway.broker.client.llen(f"{gateway.broker.namespace}:{SEND_QUEUE}") == 0
    assert gateway.outbox_files() == []

    survivor = Scheduler(gateway.client, gateway.settings, clock=gateway.clock)
    assert survivor.run_once() == 0  # the dead scheduler's lease still protects the entry
    gateway.clock.advance(gateway.settings.scheduler_lease)
    assert survivor.run_once() == 1
    gateway.drain()
    gateway.clock.advance(dt.timedelta(minutes=10))
    assert survivor.run_once() == 0
    gateway.drain()

    files = gateway.outbox_files()
    assert len(files) == 1
    assert "Kind: confirmation" in files[0].read_text()
    assert intake.schedule.claimed_count() == 0
