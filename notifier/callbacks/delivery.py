"""One attempt to deliver one callback, as the ``deliver_callback`` actor makes it.

The event is rebuilt from the callback log (the same bytes on every attempt, the same
``webhook-id``), signed with the endpoint's secrets valid now, and posted. A 2xx delivers
it; a 410 disables the endpoint; anything else is tried again on the schedule of
:mod:`notifier.callbacks.retry_schedule` (never sooner than a ``Retry-After``), on the
gateway's own durable schedule, until it is used up and the delivery is kept as dead for
an operator's ``notifier integrators recover``. An endpoint that has failed every attempt
for ``NOTIFIER_CALLBACK_SUSPEND_AFTER`` is suspended. An endpoint with
``NOTIFIER_CALLBACK_CONCURRENCY`` attempts in flight makes the next wait a few seconds,
without counting a try.

The log lines name the endpoint and the event, never the body.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Callable
from typing import Protocol

from notifier.callbacks.events import body_bytes, callback_events
from notifier.callbacks.retry_schedule import next_delay, parse_retry_after
from notifier.callbacks.sender import TIMEOUT, Attempt, post_callback
from notifier.callbacks.signing import webhook_headers
from notifier.errors import MalformedLogEntry
from notifier.integrators.model import Endpoint, EndpointState
from notifier.settings import Settings
from notifier.store.callback_deliveries import CallbackDeliveries, Fate, delivery_name
from notifier.store.callback_log import CallbackLog
from notifier.store.keys import Keys
from notifier.store.redis_store import Redis

log = logging.getLogger(__name__)

# How long a delivery waits when its endpoint has every place in flight taken.
BUSY_WAIT = dt.timedelta(seconds=2)


class Endpoints(Protocol):
    def get_endpoint(self, endpoint: str, *, now: dt.datetime | None = None) -> Endpoint | None:
        ...

    def set_endpoint_state(self, endpoint: str, state: EndpointState, *, reason: str,
                           now: dt.datetime, actor: str = ...) -> Endpoint: ...


class Post(Protocol):
    def __call__(self, endpoint_url: str, headers: dict[str, str], body: bytes, *,
                 timeout: float, allow_private: bool) -> Attempt: ...


class CallbackDelivery:
    """Delivers callbacks.

    Parameters:
      redis: a redis-py client.
      settings: the deployment's settings (key prefix, concurrency, suspension, private
        addresses).
      endpoints: the endpoints (:class:`notifier.store.integrators.IntegratorStore`).
      clock: returns the current time (aware).
      post: posts one callback (:func:`notifier.callbacks.sender.post_callback`).
      draw: a random number in [0, 1) (the jitter of a retry's delay).
      wall: the wall clock in epoch seconds, for the ``webhook-timestamp`` a receiver
        checks against its own clock (``clock`` may be a test's).
    """

    def __init__(self, redis: Redis, settings: Settings, *, endpoints: Endpoints,
                 clock: Callable[[], dt.datetime], post: Post = post_callback,
                 draw: Callable[[], float] = random.random,
                 wall: Callable[[], float] = time.time) -> None:
        keys = Keys(settings.queue_prefix)
        self.log = CallbackLog(redis, keys=keys)
        self.deliveries = CallbackDeliveries(redis, keys=keys)
        self.settings = settings
        self.endpoints = endpoints
        self.clock = clock
        self.post = post
        self.draw = draw
        self.wall = wall

    def __call__(self, target: str) -> Fate:
        """Attempt ``target`` (``"<endpoint id>|<event id>"``: the hand-off's argument)."""
        endpoint_id, _, event_id = target.partition("|")
        delivery = delivery_name(endpoint_id, event_id)
        now = self.clock()
        endpoint = self.endpoints.get_endpoint(endpoint_id, now=now)
        event = self._event(event_id)
        if endpoint is not None and endpoint.state is EndpointState.SUSPENDED:
            # Kept: the endpoint is active again once it accepts a test event, and its
            # operator recovers what it missed.
            self.deliveries.attempted(delivery, Fate.SHELVED, now=now,
                                      suspend_after=self.settings.callback_suspend_after)
            return Fate.SHELVED
        if endpoint is None or endpoint.state is not EndpointState.ACTIVE or event is None:
            self.deliveries.attempted(delivery, Fate.DROPPED, now=now,
                                      suspend_after=self.settings.callback_suspend_after)
            log.info("callback %s to endpoint %s dropped: %s", event_id, endpoint_id,
                     "the event left the log" if event is None
                     else "the endpoint was removed or answered 410 Gone")
            return Fate.DROPPED
        attempt = uuid.uuid4().hex
        if not self.deliveries.take_place(endpoint_id, attempt,
                                          most=self.settings.callback_concurrency, now=now,
                                          for_at_most=dt.timedelta(seconds=4 * TIMEOUT)):
            self.deliveries.attempted(delivery, Fate.WAIT, now=now, due=now + BUSY_WAIT,
                                      suspend_after=self.settings.callback_suspend_after)
            return Fate.WAIT
        body = body_bytes(event)
        timestamp = int(self.wall())
        answered = self.post(endpoint.url, webhook_headers(endpoint.secrets, event_id,
                                                           timestamp, body),
                             body, timeout=TIMEOUT,
                             allow_private=self.settings.callbacks_allow_private)
        return self._after(delivery, endpoint, event_id, answered, self.clock(), place=attempt)

    def _event(self, event_id: str) -> dict[str, object] | None:
        entry = self.log.get(event_id.removeprefix("evt_").split(".", 1)[0])
        if entry is None:
            return None
        try:
            events = callback_events(entry)
        except MalformedLogEntry as malformed:
            log.error("callback %s cannot be built: %s", event_id, malformed)
            return None
        return next((event for event in events if event["id"] == event_id), None)

    def _after(self, delivery: str, endpoint: Endpoint, event_id: str, attempt: Attempt,
               now: dt.datetime, *, place: str) -> Fate:
        answer = str(attempt.status) if attempt.status is not None else str(attempt.failure)
        suspend_after = self.settings.callback_suspend_after
        if attempt.delivered:
            self.deliveries.attempted(delivery, Fate.DELIVERED, now=now, answer=answer,
                                      suspend_after=suspend_after, attempt=place)
            log.debug("callback %s delivered to endpoint %s", event_id, endpoint.id)
            return Fate.DELIVERED
        if attempt.gone:
            self.deliveries.attempted(delivery, Fate.GONE, now=now, answer=answer,
                                      suspend_after=suspend_after, attempt=place)
            self.endpoints.set_endpoint_state(endpoint.id, EndpointState.DISABLED,
                                              reason="answered 410 Gone", now=now)
            log.warning("callback endpoint %s answered 410 Gone: disabled; its integrator "
                        "enables it again with 'notifier integrators endpoint enable'",
                        endpoint.id)
            return Fate.GONE
        tries = self.deliveries.tries(delivery) + 1
        delay = next_delay(tries, draw=self.draw(),
                           retry_after=parse_retry_after(attempt.retry_after, now=now))
        fate = Fate.RETRY if delay is not None else Fate.DEAD
        failing_too_long = self.deliveries.attempted(
            delivery, fate, now=now, answer=answer,
            due=now + delay if delay is not None else None, suspend_after=suspend_after,
            attempt=place)
        if fate is Fate.DEAD:
            log.warning("callback %s to endpoint %s given up after %d tries (last: %s); "
                        "'notifier integrators recover' sends it again", event_id,
                        endpoint.id, tries, answer)
        else:
            log.info("callback %s to endpoint %s failed (%s), try %d; next in %ds", event_id,
                     endpoint.id, answer, tries, int(delay.total_seconds()) if delay else 0)
        if failing_too_long:
            self.endpoints.set_endpoint_state(
                endpoint.id, EndpointState.SUSPENDED, now=now,
                reason=f"failed every attempt for {suspend_after}")
            log.warning("callback endpoint %s suspended: it failed every attempt for %s; a "
                        "test event it accepts makes it active again", endpoint.id,
                        suspend_after)
        return fate
