"""The Dramatiq broker and the gateway's two actors.

- ``intake_event`` (queue ``intake``): the Dramatiq door for booking systems written in
  Python (see :mod:`notifier.client`). Same contract as ``POST /v1/events``.
- ``send_message`` (queue ``send``): the send step, fed by the scheduler.

Actors are declared on an explicit broker (never Dramatiq's implicit default, which would
talk to whatever Redis runs on localhost).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from pydantic import ValidationError

from notifier.channels.base import ChannelClient
from notifier.clock import utc_now
from notifier.domain import Channel, Event
from notifier.problems import describe, summary
from notifier.sending import SendStep
from notifier.settings import Settings
from notifier.store.intake import Intake

log = logging.getLogger(__name__)

INTAKE_QUEUE = "intake"
SEND_QUEUE = "send"
INTAKE_ACTOR = "intake_event"
SEND_ACTOR = "send_message"

# Appointment messages are worth little once late: retry for minutes, not Dramatiq's
# default of days. The send step re-checks the deadline on every attempt anyway.
SEND_RETRIES: dict[str, Any] = {"max_retries": 5, "min_backoff": 2_000, "max_backoff": 60_000}
INTAKE_RETRIES: dict[str, Any] = {"max_retries": 10, "min_backoff": 1_000, "max_backoff": 60_000}


class InvalidEvent(Exception):
    """An event message that does not follow the contract. Not retried: Dramatiq keeps
    it in the intake queue's dead letters (7 days) with this message for an operator."""


def build_broker(settings: Settings, *, url: str | None = None) -> RedisBroker:
    redis_url = url or settings.redis_url
    if not redis_url:
        raise ValueError("NOTIFIER_REDIS_URL is not set")
    return RedisBroker(url=redis_url, namespace=f"{settings.queue_prefix}-dramatiq")


@dataclass(frozen=True)
class Actors:
    intake: dramatiq.Actor[[dict[str, Any]], None]
    send: dramatiq.Actor[[dict[str, Any]], None]


def declare_actors(
    broker: dramatiq.Broker,
    settings: Settings,
    *,
    client: redis.Redis,
    channels: Mapping[Channel, ChannelClient],
    clock: Callable[[], dt.datetime] = utc_now,
) -> Actors:
    """Declare both actors on ``broker``, bound to one Redis client and set of channels."""
    intake = Intake(client, settings)
    step = SendStep(client, settings, channels=channels, clock=clock)

    def intake_event(event: dict[str, Any]) -> None:
        try:
            parsed = Event.model_validate(event)
        except ValidationError as exc:
            problems = summary(describe(exc))
            log.error("refused an event message: %s", problems)
            raise InvalidEvent(problems) from None
        intake.accept(parsed, clock())

    def send_message(payload: dict[str, Any]) -> None:
        step(payload)

    return Actors(
        intake=dramatiq.Actor(
            intake_event, broker=broker, actor_name=INTAKE_ACTOR, queue_name=INTAKE_QUEUE,
            priority=0, options={**INTAKE_RETRIES, "throws": (InvalidEvent,)},
        ),
        send=dramatiq.Actor(
            send_message, broker=broker, actor_name=SEND_ACTOR, queue_name=SEND_QUEUE,
            priority=0, options=SEND_RETRIES,
        ),
    )
