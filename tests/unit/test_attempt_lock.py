"""How long one attempt holds its message: a rate-limit wait, then its channel client's
own bound (eight SMTP command timeouts and 5 s for email, three Twilio timeouts for SMS
and voice), the same whether a provider or the outbox serves the channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import redis

from notifier.channels.registry import channel_clients
from notifier.domain import Channel
from notifier.messages.samples import SAMPLE_NOW
from notifier.sending import attempt_lock
from notifier.settings import Settings

PROVIDERS: dict[str, Any] = {
    "sms_provider": "twilio", "voice_provider": "twilio", "email_provider": "smtp",
    "twilio_account_sid": "AC" + "0" * 32, "twilio_auth_token": "token",
    "public_base_url": "https://gateway.example.org",
    "twilio_sms_from": "+15145550100", "twilio_voice_from": "+15145550101",
    "smtp_host": "smtp.example.org",
}


def locks(settings: Settings) -> dict[Channel, dt.timedelta]:
    # The Redis client is only held by the voice client here, never reached.
    clients = channel_clients(settings, clock=lambda: SAMPLE_NOW, redis=redis.Redis())
    return {channel: attempt_lock(client) for channel, client in clients.items()}


@pytest.mark.parametrize("providers", [{}, PROVIDERS], ids=["outbox", "providers"])
def test_the_lock_is_a_rate_limit_wait_plus_the_providers_timeouts(
    providers: dict[str, Any],
) -> None:
    settings = Settings(smtp_timeout=dt.timedelta(seconds=7),
                        twilio_timeout=dt.timedelta(seconds=4), **providers)
    assert locks(settings) == {
        Channel.EMAIL: dt.timedelta(seconds=5 + 7 * 8 + 5),
        Channel.SMS: dt.timedelta(seconds=5 + 4 * 3),
        Channel.VOICE: dt.timedelta(seconds=5 + 4 * 3),
    }


@pytest.mark.parametrize("providers", [{}, PROVIDERS], ids=["outbox", "providers"])
def test_with_the_default_timeouts_an_email_holds_its_lock_130_s_and_a_text_or_call_35_s(
    providers: dict[str, Any],
) -> None:
    assert locks(Settings(**providers)) == {
        Channel.EMAIL: dt.timedelta(seconds=130),
        Channel.SMS: dt.timedelta(seconds=35),
        Channel.VOICE: dt.timedelta(seconds=35),
    }
