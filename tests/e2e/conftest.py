"""End-to-end tests: the gateway's real processes (web, worker, scheduler, see
:mod:`tests.harness`) against the test's own Redis, a Twilio-compatible server and an SMTP
server on loopback, both running in the test process."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from notifier.integrators.model import EVENT_TYPES
from notifier.names import CALLBACK_QUEUE, INTAKE_QUEUE, SEND_QUEUE
from notifier.settings import Settings
from notifier.store.integrators import IntegratorStore
from notifier.store.keys import Keys
from tests.factories import event
from tests.fakes.conftest_fixtures import fake_smtp, fake_twilio
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio, rebase
from tests.fakes.webhook_receiver import FakeReceiver
from tests.harness import GatewayConfig, HarnessError, Processes

__all__ = ["fake_smtp", "fake_twilio"]  # fixtures

PUBLIC = "https://gateway.example.org"
API_TOKEN = "e2e-intake-token-0123456789abcdef"
SMS_FROM = "+15145550000"
VOICE_FROM = "+15145550001"

Launch = Callable[[GatewayConfig], Processes]


@pytest.fixture
def base_config(
    redis_url: str, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp, tmp_path: Path
) -> GatewayConfig:
    """Every channel through the loopback providers, every window open."""
    return GatewayConfig(
        redis_url=redis_url, api_token=API_TOKEN, outbox_dir=tmp_path / "outbox",
        window_sms="always", window_voice="always", window_email="always",
        public_base_url=PUBLIC, twilio_sms_from=SMS_FROM, twilio_voice_from=VOICE_FROM,
        twilio_timeout=dt.timedelta(seconds=5), sms_segments_per_second=50,
        voice_calls_per_second=50,
        **fake_twilio.settings_overrides(), **fake_smtp.settings_overrides(),
    )


@pytest.fixture
def launch(
    redis_url: str, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp, tmp_path: Path
) -> Iterator[Launch]:
    """Makes a :class:`Processes` for a config; every process is stopped after the test,
    before the fakes and Redis go away (this fixture depends on them)."""
    made: list[Processes] = []

    def make(config: GatewayConfig) -> Processes:
        processes = Processes(config, workdir=tmp_path / f"processes-{len(made) + 1}")
        made.append(processes)
        return processes

    try:
        yield make
    finally:
        problems = []
        for processes in made:
            try:
                processes.close()
            except HarnessError as error:
                problems.append(str(error))
        if problems:
            raise HarnessError("; ".join(problems))


def booking(
    *, reference: str, first_name: str, last_name: str, language: str, mobile: str,
    home: str, email: str, modes: tuple[str, ...], start: dt.datetime, at: dt.datetime,
    location: dict[str, Any] | None = None, fallback_consent: bool | None = None,
) -> dict[str, Any]:
    """A booked event as JSON, for one patient (at ``location``, the sample clinic by
    default; ``fallback_consent`` only when given)."""
    patient: dict[str, Any] = {
        "first_name": first_name, "last_name": last_name, "language": language,
        "mobile_phone": mobile, "home_phone": home, "email": email, "modes": list(modes),
    }
    if fallback_consent is not None:
        patient["fallback_consent"] = fallback_consent
    return event("booked", reference=reference, start=start, at=at, location=location,
                 patient=patient).model_dump(mode="json")


@dataclass(frozen=True)
class BookingSystem:
    """An integrator acting for some locations, with one endpoint for every event type.

    Parameters:
      token: its API token (for ``/v1/events`` and ``/v1/messages``).
      receiver: where its callbacks arrive (checking their signatures).
    """

    token: str
    receiver: FakeReceiver


@contextmanager
def booking_system(client: redis.Redis, settings: Settings, *,
                   locations: frozenset[str]) -> Iterator[BookingSystem]:
    """A booking system for ``locations`` whose endpoint is a receiver on loopback, for
    as long as the ``with`` block lasts (the gateway must allow private receivers)."""
    store = IntegratorStore(client, settings)
    now = dt.datetime.now(dt.UTC)
    _, token = store.add("agenda", name="Agenda", locations=locations, actor="tests", now=now)
    endpoint, secret = store.add_endpoint("agenda", url="http://placeholder.invalid/",
                                          types=frozenset(EVENT_TYPES), actor="tests", now=now)
    with FakeReceiver(secrets=[secret]) as receiver:
        client.hset(Keys(settings.queue_prefix).endpoint(endpoint.id), "url",
                    receiver.url("/ok"))
        yield BookingSystem(token.token, receiver)


def start_gateway(processes: Processes, fake_twilio: FakeTwilio, *, threads: int = 4) -> str:
    """The whole gateway on loopback: a worker for the patients' queues, one for the
    callbacks', the scheduler and the web process, with the fake Twilio's webhooks going
    to that web process; returns its base URL."""
    processes.start_worker(threads=threads, queues=(INTAKE_QUEUE, SEND_QUEUE))
    processes.start_worker("callbacks", threads=2, queues=(CALLBACK_QUEUE,))
    processes.start_scheduler()
    web = processes.start_web()
    base_url = f"http://127.0.0.1:{web.port}"
    fake_twilio.deliver_to = rebase(PUBLIC, base_url)
    return base_url
