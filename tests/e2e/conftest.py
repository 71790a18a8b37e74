"""End-to-end tests: the gateway's real processes (web, worker, scheduler, see
:mod:`tests.harness`) against the test's own Redis, a Twilio-compatible server and an SMTP
server on loopback, both running in the test process."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import event
from tests.fakes.conftest_fixtures import fake_smtp, fake_twilio
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio
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
) -> dict[str, Any]:
    """A booked event as JSON, for one patient."""
    patient = {
        "first_name": first_name, "last_name": last_name, "language": language,
        "mobile_phone": mobile, "home_phone": home, "email": email, "modes": list(modes),
    }
    return event("booked", reference=reference, start=start, at=at,
                 patient=patient).model_dump(mode="json")
