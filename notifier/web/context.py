"""What the request handlers of one app share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from redis import Redis

from notifier.destinations import DestinationPolicy
from notifier.settings import Settings
from notifier.store.intake import Intake
from notifier.store.integrators import IntegratorStore
from notifier.web.webhook_results import WebhookResults


@dataclass(frozen=True)
class WebContext:
    """The app's shared parts, kept on ``app.state.context``.

    Parameters:
      settings: the deployment's settings.
      redis: the Redis client (a connection pool).
      intake: stores and plans accepted events.
      clock: the current time (aware UTC); tests pass a fixed one.
      api_token: the deployment's own bearer token (``NOTIFIER_API_TOKEN``), as bytes: it
        acts for every location.
      integrators: the integrators, whose own tokens act for their locations only.
      webhook_results: this process's count of the Twilio webhooks' answers.
      destinations: the numbers patients may be texted and called on, checked on every
        event that arrives.
      metrics_token: the read-only token Prometheus presents to ``/metrics``, as bytes;
        None when metrics are not served.
    """

    settings: Settings
    redis: Redis
    intake: Intake
    clock: Callable[[], dt.datetime]
    api_token: bytes
    integrators: IntegratorStore
    webhook_results: WebhookResults
    destinations: DestinationPolicy
    metrics_token: bytes | None = None


def web_context(request: Request) -> WebContext:
    context = request.app.state.context
    assert isinstance(context, WebContext)
    return context
