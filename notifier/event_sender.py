"""The Dramatiq door, for booking systems written in Python.

    from notifier.event_sender import EventSender

    sender = EventSender("redis://redis.internal:6379/0")
    sender.send(event)          # a dict (or notifier.domain.Event) following the contract

``send`` validates the event first (its dates against the sender's clock) and raises
:class:`InvalidEventError` with every problem (field path and sentence), so a mistake
surfaces in the booking system rather than in the gateway's dead letters. The gateway's
workers then check it again and apply it exactly as they apply ``POST /v1/events``.

:mod:`notifier.client` exports the same names, for the imports booking systems already have.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from pydantic import ValidationError
from redis import Redis

from notifier.arrival import Arrival
from notifier.clock import utc_now
from notifier.domain import Event
from notifier.errors import InvalidEventError
from notifier.names import INTAKE_ACTOR, INTAKE_QUEUE, broker_namespace
from notifier.problems import describe

# InvalidEventError lives in notifier.errors; booking systems catch it from here.
__all__ = ["EventSender", "InvalidEventError"]


class EventSender:
    """Enqueues appointment events for the gateway.

    Parameters:
      redis_url: the gateway's Redis (the one its workers use); ignored when ``redis`` is
        given.
      redis: a client of that Redis instead, for example one a
        ``redis.sentinel.Sentinel(...).master_for(service)`` gives, which follows a
        failover.
      prefix: the gateway's NOTIFIER_QUEUE_PREFIX, if it changed the default.
      clock: the time now (aware), against which the event's dates are checked.
    """

    def __init__(
        self, redis_url: str = "", *, prefix: str = "notifier",
        clock: Callable[[], dt.datetime] = utc_now, redis: Redis | None = None,
    ) -> None:
        if redis is None and not redis_url:
            raise ValueError("give the gateway's Redis: a redis_url, or a redis client")
        self.broker = (RedisBroker(client=redis, namespace=broker_namespace(prefix)) if redis
                       else RedisBroker(url=redis_url, namespace=broker_namespace(prefix)))
        self.clock = clock

    def send(self, event: Event | Mapping[str, Any]) -> str:
        """Validate and enqueue one event; returns the Dramatiq message id."""
        data = event.model_dump(mode="json") if isinstance(event, Event) else event
        try:
            parsed = Event.model_validate(data, context=Arrival(self.clock()))
        except ValidationError as exc:
            raise InvalidEventError(describe(exc)) from None
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=INTAKE_QUEUE,
            actor_name=INTAKE_ACTOR,
            args=(parsed.model_dump(mode="json"),),
            kwargs={},
            options={},
        )
        self.broker.enqueue(message)
        return message.message_id

    def close(self) -> None:
        self.broker.close()
