"""The shared fixtures start the fakes, expose their credentials and settings, and stop them."""

from __future__ import annotations

import asyncio
import re
import threading
from email.message import EmailMessage

import aiosmtplib

from notifier.settings import Settings
from tests.fakes.conftest_fixtures import fake_smtp, fake_twilio
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio, twilio_client_for

__all__ = ["fake_smtp", "fake_twilio"]  # the fixtures, used below


def test_fake_twilio_serves_its_own_account(fake_twilio: FakeTwilio) -> None:
    message = twilio_client_for(fake_twilio).messages.create(
        to="+15145550188", from_="+15145550100", body="Bonjour"
    )

    assert re.fullmatch(r"AC[0-9a-f]{32}", fake_twilio.account_sid)
    assert re.fullmatch(r"[0-9a-f]{32}", fake_twilio.auth_token)
    assert [r.sid for r in fake_twilio.messages] == [message.sid]
    assert any(t.name == "fake-twilio" for t in threading.enumerate())


def test_fake_twilio_settings_are_valid(fake_twilio: FakeTwilio) -> None:
    settings = Settings(
        **fake_twilio.settings_overrides(), public_base_url="https://gateway.example.org",
        twilio_sms_from="+15145550100", twilio_voice_from="+15145550100",
    )

    assert settings.twilio_api_base_url == fake_twilio.base_url
    assert settings.twilio_auth_token is not None
    assert settings.twilio_auth_token.get_secret_value() == fake_twilio.auth_token


def test_fake_smtp_receives_and_its_settings_are_valid(fake_smtp: FakeSmtp) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "s"
    message.set_content("Bonjour")
    asyncio.run(aiosmtplib.send(message, hostname=fake_smtp.host, port=fake_smtp.port))

    settings = Settings(**fake_smtp.settings_overrides())

    assert (settings.smtp_host, settings.smtp_port) == (fake_smtp.host, fake_smtp.port)
    assert settings.smtp_security == "none"
    assert [m.rcpt_tos for m in fake_smtp.messages] == [("b@example.org",)]
