"""Twilio answering 500 to everything for 90 s, through the real processes: the booking's
SMS is neither given up nor sent twice. Longer than Dramatiq's retry budget of the send
actor (six retries, about a minute): only the message's deadline, ten days away, may end
its tries."""

from __future__ import annotations

import datetime as dt
import itertools
import time

import httpx
import pytest
import redis

from notifier.backoff import MAX_DELAY
from notifier.delivery_status import IN_FLIGHT
from notifier.names import SEND_QUEUE
from notifier.store.deliveries import DeliveryLog
from notifier.store.keys import Keys
from tests.e2e.conftest import API_TOKEN, Launch, booking
from tests.factories import ZONE
from tests.fakes.twilio_server import FakeTwilio, Outcome
from tests.harness import GatewayConfig, wait_until

pytestmark = pytest.mark.slow

OUTAGE = 90.0  # seconds Twilio answers 500 to every request
PATIENT = {
    "reference": "0000700010", "first_name": "Mathieu", "last_name": "Gagnon-Côté",
    "language": "fr", "mobile": "+15145550131", "home": "+15145550132",
    "email": "mathieu.gagnon@example.org",
}
KEY = f"{PATIENT['reference']}:confirmation:sms:v1"


def test_a_90_second_twilio_outage_neither_loses_nor_doubles_the_sms(
    base_config: GatewayConfig, launch: Launch, fake_twilio: FakeTwilio,
    redis_client: redis.Redis,
) -> None:
    processes = launch(base_config)
    processes.start_worker(threads=2)
    processes.start_scheduler()
    web = processes.start_web()
    deliveries = DeliveryLog(redis_client, keys=Keys(base_config.settings().queue_prefix),
                             retention=dt.timedelta(days=1))
    now = dt.datetime.now(dt.UTC)
    start = (now + dt.timedelta(days=10)).astimezone(ZONE).replace(hour=10, minute=30,
                                                                   second=0, microsecond=0)
    fake_twilio.fail_all(Outcome.server_error(500))

    answer = httpx.post(
        f"http://127.0.0.1:{web.port}/v1/events",
        json=booking(**PATIENT, modes=("sms",), start=start, at=now),
        headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=10,
    )
    assert answer.status_code == 202, answer.text
    (create,) = wait_until(lambda: fake_twilio.requests, timeout=30,
                           what="the SMS to reach Twilio")
    wait_until(lambda: time.time() - create.at >= OUTAGE, timeout=OUTAGE + 5, poll=0.5,
               what="the outage to last its time",
               hint=lambda: f"record {deliveries.get(KEY)}")
    during = deliveries.get(KEY)
    fake_twilio.reset()  # Twilio is back

    # Past the old budget, the message still waits: nothing taken, nothing given up.
    assert during["status"] == "submitting", during
    assert processes.dead_letters(SEND_QUEUE) == 0
    record = wait_until(
        lambda: (r := deliveries.get(KEY))["status"] not in IN_FLIGHT and r,
        timeout=MAX_DELAY.total_seconds(), poll=0.5,
        what="the SMS to be sent once Twilio is back",
        hint=lambda: f"record {deliveries.get(KEY)}",
    )

    (taken,) = fake_twilio.messages
    assert record["status"] == "accepted" and record["provider_id"] == taken.sid
    assert record["ambiguous"] == "1"  # looked up, not found, sent again once
    assert [r.status for r in fake_twilio.requests] == [500, 201]
    lookups = fake_twilio.lookups
    assert [r.status for r in lookups][-1] == 200
    assert {r.status for r in lookups[:-1]} == {500}
    assert int(record["failures"]) == len(lookups)  # the create's 500 and each failed look-up
    asked_at = [create.at] + [r.at for r in lookups]
    gaps = [later - earlier for earlier, later in itertools.pairwise(asked_at)]
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps)), gaps
    assert processes.dead_letters(SEND_QUEUE) == 0
    assert "retries_exhausted" not in processes.output()
    for field in ("first_name", "last_name", "mobile"):
        assert PATIENT[field] not in processes.output()
