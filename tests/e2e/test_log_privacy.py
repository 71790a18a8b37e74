"""What the real processes write to their logs carries no patient data.

A worker fed event messages that make ``intake_event`` fail, enqueued on the
``EventSender`` broker without the client's validation as a careless integrator would (one
holding a clinical field, one starting in year 9999, one with an argument the actor does
not take, which it can only fail on), names each failed message by actor, id and event,
with the exception, and never a name, phone number, email address or clinical text, on
any retry or in any traceback. The web process's access log never shows a query string's
values.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import dramatiq
import httpx
import pytest

from notifier.client import EventSender
from notifier.names import INTAKE_ACTOR, INTAKE_QUEUE
from tests.e2e.conftest import Launch
from tests.factories import event
from tests.harness import GatewayConfig, wait_until

pytestmark = pytest.mark.slow

WAIT = 30.0
FIRST, LAST = "Évangéline", "Ouellet-Gagnon"
MOBILE, HOME, EMAIL = "+15145550143", "+15145550144", "evangeline.ouellet@example.net"
CLINICAL = "douleur thoracique depuis trois jours"
# Every form the patient's data could take in a line: as given, JSON-escaped, repr'd.
SECRETS = (FIRST, LAST, "vang", "Ouellet", "5550143", "5550144", "example.net", CLINICAL,
           "thoracique", "\\u00c9vang", "\\xc9vang")


def tomorrow() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


def patient_event(*, start: dt.datetime, **appointment: Any) -> dict[str, Any]:
    """An event for our patient, as the JSON a booking system would send."""
    data = event("booked", start=start, at=dt.datetime.now(dt.UTC)).model_dump(mode="json")
    data["appointment"]["patient"].update(
        first_name=FIRST, last_name=LAST, mobile_phone=MOBILE, home_phone=HOME, email=EMAIL,
    )
    data["appointment"].update(appointment)
    return data


def enqueue(sender: EventSender, *args: Any, **kwargs: Any) -> str:
    """An ``intake_event`` message on the sender's broker, skipping its validation."""
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=INTAKE_QUEUE, actor_name=INTAKE_ACTOR, args=args, kwargs=kwargs,
        options={},
    )
    sender.broker.enqueue(message)
    return message.message_id


def failure_line(output: str, message_id: str) -> str | None:
    found = re.search(
        rf"^.*Failed to process message {INTAKE_ACTOR}\({re.escape(message_id)}\b.*$",
        output, re.MULTILINE,
    )
    return found.group(0) if found else None


def test_failed_event_messages_are_logged_by_actor_and_id_without_patient_data(
    base_config: GatewayConfig, launch: Launch, redis_url: str,
) -> None:
    processes = launch(base_config)
    worker = processes.start_worker(threads=2)
    sender = EventSender(redis_url, prefix=base_config.settings().queue_prefix)
    try:
        refused = enqueue(sender, patient_event(start=tomorrow(), reasonForVisit=CLINICAL))
        far = enqueue(sender, patient_event(start=dt.datetime(9999, 12, 30, 10, tzinfo=dt.UTC)))
        # An argument intake_event does not take (named, as JSON allows, like an email):
        # it fails whatever the contract says, is retried, and its traceback quotes it.
        unexpected = enqueue(sender, patient_event(start=tomorrow()), **{EMAIL: CLINICAL})
    finally:
        sender.close()
    ids = (refused, far, unexpected)

    def logged() -> bool:
        output = worker.output()
        return (output.count(f"Failed to process message {INTAKE_ACTOR}(") >= len(ids)
                and f"Retrying message '{unexpected}'" in output)

    wait_until(logged, timeout=WAIT, what="every failure and a retry in the worker's log",
               hint=worker.tail)
    output = worker.output()

    leaked = [secret for secret in SECRETS if secret in output]
    assert not leaked, f"patient data in the worker's log: {leaked}\n{output}"
    # Still enough for an operator: which actor, which message, which event, why.
    lines = {message_id: failure_line(output, message_id) for message_id in ids}
    assert all(lines.values()), output
    for line in lines.values():
        assert re.search(r"; event_id=test-\d+, type=appointment\.booked, "
                         r"reference=0000000001\) with (expected exception \w+|unhandled "
                         r"exception)\.$", str(line)), line
    assert "got an unexpected keyword argument '[email]'" in output  # its traceback, masked


def test_the_access_log_never_shows_a_query_strings_values(
    base_config: GatewayConfig, launch: Launch,
) -> None:
    token = "qs-token-9f8e7d6c5b4a39281706"
    processes = launch(base_config)
    web = processes.start_web()

    answer = httpx.get(f"http://127.0.0.1:{web.port}/healthz?token={token}&email=a%40b.example",
                       timeout=10)
    assert answer.status_code == 200

    def access_line() -> str | None:
        found = re.search(r"^.*GET /healthz\?.*$", web.output(), re.MULTILINE)
        return found.group(0) if found else None

    line = wait_until(access_line, timeout=WAIT, what="the access log line", hint=web.tail)
    assert token not in web.output() and "b.example" not in web.output()
    assert "/healthz?token=[redacted]&email=[redacted]" in line
    assert " 200" in line
