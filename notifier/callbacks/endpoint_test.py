"""The test event an operator sends an endpoint: is it reachable, and does it take our
signed callbacks?

The event has the type ``endpoint.test`` and a body naming only the endpoint and its
integrator (no patient, no message). It is signed with the endpoint's current secrets and
posted once by :func:`notifier.callbacks.sender.post_callback`, like a callback, with a
fresh ``webhook-id`` each time (a receiver that drops ids it has seen still answers).
It is no delivery: it is not retried, nor counted among the endpoint's deliveries.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable

from notifier.callbacks.delivery import Post
from notifier.callbacks.destination_check import describe_rejection
from notifier.callbacks.events import body_bytes
from notifier.callbacks.sender import TIMEOUT, Attempt, Failure, post_callback
from notifier.callbacks.signing import webhook_headers
from notifier.domain import Lang
from notifier.integrators.model import Endpoint

TEST_EVENT = "endpoint.test"


def endpoint_test_event(
    endpoint: Endpoint, *, now: dt.datetime, event_id: str,
) -> dict[str, object]:
    """The body of a test event for ``endpoint`` at ``now`` (aware), with id ``event_id``."""
    return {
        "id": event_id, "type": TEST_EVENT,
        "timestamp": now.astimezone(dt.UTC).isoformat(),
        "data": {"endpoint_id": endpoint.id, "integrator_id": endpoint.integrator},
    }


def send_endpoint_test(
    endpoint: Endpoint, *, now: dt.datetime, allow_private: bool, post: Post = post_callback,
    wall: Callable[[], float] = time.time,
) -> Attempt:
    """Sign and post a test event to ``endpoint`` once, and return what came of it.

    Parameters:
      endpoint: the endpoint, with its secrets valid at ``now``.
      now: the event's time (aware).
      allow_private: ``NOTIFIER_CALLBACKS_ALLOW_PRIVATE``.
      post: posts it (:func:`notifier.callbacks.sender.post_callback`).
      wall: the wall clock in epoch seconds, for ``webhook-timestamp``.
    """
    event_id = f"evt_test_{secrets.token_hex(8)}"
    body = body_bytes(endpoint_test_event(endpoint, now=now, event_id=event_id))
    headers = webhook_headers(endpoint.secrets, event_id, int(wall()), body)
    return post(endpoint.url, headers, body, timeout=TIMEOUT, allow_private=allow_private)


def describe_attempt(attempt: Attempt) -> str:
    """What an attempt got, in the words an operator reads (English)."""
    took = f"in {attempt.elapsed:.2f} s"
    if attempt.status is not None:
        if attempt.delivered:
            return f"answered {attempt.status} {took}: it accepts signed callbacks"
        if attempt.failure is Failure.REDIRECT_NOT_FOLLOWED:
            return (f"answered {attempt.status} {took}: a redirect, never followed; give "
                    "the endpoint the URL it moved to (remove it and add it again)")
        if attempt.gone:
            return (f"answered 410 Gone {took}: a callback answered so disables the "
                    "endpoint; its integrator says it no longer wants callbacks there")
        return f"answered {attempt.status} {took}: it did not accept the test event"
    if attempt.rejection is not None:
        return f"not sent: {describe_rejection(attempt.rejection, Lang.EN)}"
    if attempt.failure is Failure.TIMEOUT:
        return f"no answer within {TIMEOUT:.0f} s"
    return ("no answer: the connection was refused, broke, or its TLS certificate did not "
            "match the URL's host")
