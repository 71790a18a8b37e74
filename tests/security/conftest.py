"""What the security tests share: the real app on the tests' own Redis, a patient whose
details must never leak, a full picture of Redis to prove a refusal changed nothing, and a
sender that signs Twilio webhooks exactly as Twilio does."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from notifier.settings import Settings
from notifier.web import create_app
from notifier.web.examples import BOOKED
from tests.factories import Clock, local

API_TOKEN = "security-test-api-token-0123456789"
TWILIO_AUTH_TOKEN = "security-twilio-auth-token-000001"
PUBLIC_BASE_URL = "https://gateway.example.org"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@dataclass(frozen=True)
class SecretPatient:
    """A patient whose details are distinctive enough to be found anywhere they leak."""

    first_name: str = "Zéphyrine"
    last_name: str = "Quintal-Ouellet"
    mobile_phone: str = "+15145550177"
    home_phone: str = "+15145550166"
    email: str = "zephyrine.quintal@example.org"

    def traces(self) -> list[str]:
        """Every form in which the details could show up in a log line or an answer."""
        phones = [self.mobile_phone, self.home_phone]
        return [
            self.first_name, self.last_name, self.email, self.email.split("@")[0],
            *phones, *(p[2:] for p in phones), *(f"{p[2:5]}-{p[5:8]}-{p[8:]}" for p in phones),
        ]

    def patient_json(self) -> dict[str, Any]:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "language": "fr",
            "mobile_phone": self.mobile_phone,
            "home_phone": self.home_phone,
            "email": self.email,
            "modes": ["email", "sms", "voice"],
            "self_serve": True,
        }


PATIENT = SecretPatient()


def booked_event(**patient: Any) -> dict[str, Any]:
    """The documented example event, for the secret patient (``patient`` overrides fields)."""
    event = copy.deepcopy(BOOKED)
    event["appointment"]["patient"] = {**PATIENT.patient_json(), **patient}
    return event


def assert_no_patient_data(text: str, patient: SecretPatient = PATIENT) -> None:
    leaked = [trace for trace in patient.traces() if trace.casefold() in text.casefold()]
    assert not leaked, f"patient data found: {leaked}"


RedisPicture = dict[bytes, tuple[bytes, bytes | None, bool]]


def redis_picture(client: redis.Redis) -> RedisPicture:
    """Every key with its type, its serialised value (DUMP) and whether it expires."""
    keys = sorted(client.scan_iter(count=1000))
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.type(key)
            pipe.dump(key)
            pipe.pttl(key)
        replies = pipe.execute()
    return {
        key: (replies[3 * i], replies[3 * i + 1], replies[3 * i + 2] >= 0)
        for i, key in enumerate(keys)
    }


@pytest.fixture(autouse=True)
def no_patient_data_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every security test also proves that nothing it made the app log names the patient
    (records are read as emitted, before the production redacting filter)."""
    caplog.set_level(logging.DEBUG)
    yield
    assert_no_patient_data(caplog.text)


@pytest.fixture
def clock() -> Clock:
    return Clock(local(2026, 11, 24, 10))


@pytest.fixture
def settings(outbox: Path) -> Settings:
    return Settings(
        api_token=API_TOKEN,
        twilio_auth_token=TWILIO_AUTH_TOKEN,
        public_base_url=PUBLIC_BASE_URL,
        outbox_dir=outbox,
    )


@pytest.fixture
def http(settings: Settings, redis_client: redis.Redis, clock: Clock) -> Iterator[TestClient]:
    """The real app; a server error is raised in the test, not turned into a 500."""
    with TestClient(create_app(settings, redis=redis_client, clock=clock)) as client:
        yield client


class TwilioWebhooks:
    """Posts webhooks as Twilio does: form-encoded, signed (HMAC-SHA1 of the public URL and
    the sorted parameters) with an auth token.

    Parameters:
      http: the test client, or an HTTP client of a real web process.
      auth_token: the token to sign with (the gateway's, unless a test forges).
    """

    def __init__(self, http: httpx.Client, *, auth_token: str = TWILIO_AUTH_TOKEN) -> None:
        self.http = http
        self.validator = RequestValidator(auth_token)

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        return str(self.validator.compute_signature(url, dict(params)))

    def post(
        self,
        url: str,
        params: Mapping[str, str],
        *,
        signed_url: str | None = None,
        signed_params: Mapping[str, str] | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST ``params`` to the public ``url``; the signature covers ``signed_url`` and
        ``signed_params`` (the same URL and parameters unless a test tampers)."""
        if signature is None:
            signature = self.sign(signed_url or url, signed_params or params)
        parts = urlsplit(url)
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        answer: httpx.Response = self.http.post(
            target,
            content=urlencode(dict(params)),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                **({"X-Twilio-Signature": signature} if signature else {}),
                **(headers or {}),
            },
        )
        return answer


@pytest.fixture
def twilio(http: TestClient) -> TwilioWebhooks:
    return TwilioWebhooks(http)
