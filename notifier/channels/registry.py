"""Which client serves each channel in this deployment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from redis import Redis

from notifier.channels.base import ChannelClient
from notifier.channels.outbox import OutboxClient
from notifier.channels.smtp.email_client import SmtpEmailClient
from notifier.channels.smtp.pool import send_bound
from notifier.channels.test_recipients import TestRecipientClient
from notifier.channels.twilio.api import build_twilio_client, request_bound
from notifier.channels.twilio.sms import TwilioSmsClient
from notifier.channels.twilio.voice import TwilioVoiceClient
from notifier.domain import Channel, Location
from notifier.planning.entries import AppointmentState
from notifier.settings import Settings
from notifier.store.connect import connect_redis
from notifier.store.keys import Keys


def stored_locations(
    redis: Redis, settings: Settings
) -> Callable[[str], Location | None]:
    """The location of an appointment as stored by the intake, by reference."""
    keys = Keys(settings.queue_prefix)

    def location(reference: str) -> Location | None:
        raw = redis.get(keys.appointment(reference))
        return None if raw is None else AppointmentState.from_json(raw).appointment.location

    return location


def provider_bound(settings: Settings, channel: Channel) -> dt.timedelta:
    """How long one hand-over to the provider of ``channel`` may take: one SMTP send
    for email, one Twilio request for SMS and voice (what the outbox stands in for)."""
    if channel is Channel.EMAIL:
        return send_bound(settings.smtp_timeout)
    return request_bound(settings.twilio_timeout)


def channel_clients(
    settings: Settings,
    *,
    clock: Callable[[], dt.datetime],
    redis: Redis | None = None,
) -> dict[Channel, ChannelClient]:
    """The client for each channel: Twilio for SMS and voice and SMTP for email when
    chosen in settings, the outbox otherwise; in front of each, the test recipients
    (:mod:`notifier.channels.test_recipients`), which never reach a provider.

    Parameters:
      settings: ``sms_provider``, ``voice_provider``, ``email_provider`` and theirs.
      clock: the current time, aware.
      redis: the Redis client voice calls and email read appointments from (and voice
        keeps its TwiML in); one of the deployment's Redis when not given.
    """
    chosen: dict[Channel, ChannelClient] = {
        channel: OutboxClient(settings.outbox_dir, clock=clock,
                              attempt_bound=provider_bound(settings, channel))
        for channel in Channel
    }
    if "twilio" in (settings.sms_provider, settings.voice_provider):
        twilio = build_twilio_client(settings)
        if settings.sms_provider == "twilio":
            chosen[Channel.SMS] = TwilioSmsClient(settings, twilio=twilio)
    if settings.voice_provider == "twilio" or settings.email_provider == "smtp":
        if redis is None:
            redis = connect_redis(settings, needed_by="worker")
        locations = stored_locations(redis, settings)
        if settings.voice_provider == "twilio":
            chosen[Channel.VOICE] = TwilioVoiceClient(
                settings, redis=redis, locations=locations, clock=clock, twilio=twilio
            )
        if settings.email_provider == "smtp":
            chosen[Channel.EMAIL] = SmtpEmailClient(settings, locations=locations, clock=clock)
    return {
        channel: TestRecipientClient(inner, channel=channel) for channel, inner in chosen.items()
    }
