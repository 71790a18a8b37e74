"""The web process: the intake API (and, alongside it, the health check).

``create_app`` checks at load time what the process cannot run without, so that a
deployment with no API token stops with one line instead of serving an open door.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from redis import Redis

from notifier.clock import utc_now
from notifier.destinations import destination_policy
from notifier.domain import Event
from notifier.errors import SettingsError
from notifier.settings import MIN_TOKEN_LENGTH, Settings
from notifier.store.connect import connect_redis
from notifier.store.intake import Intake
from notifier.store.integrators import IntegratorStore
from notifier.web import (
    documentation,
    feed,
    health,
    inbound,
    intake,
    message_status,
    status_callbacks,
    voice,
)
from notifier.web.console import router as console_router
from notifier.web.console.headers import ConsoleHeaders
from notifier.web.context import WebContext
from notifier.web.errors import install_error_handlers
from notifier.web.webhook_results import PREFIX as WEBHOOK_PREFIX
from notifier.web.webhook_results import CountWebhooks, WebhookResults

DESCRIPTION = """\
Booking systems send appointment events here; the gateway tells patients, in French or
English, by email, SMS and voice call, that an appointment was booked, changed,
cancelled, is coming up or was missed.

Every request to `/v1/events` carries `Authorization: Bearer <token>`. Send the full
appointment as it is now with every event; give each event a unique `event_id` (a repeat
gets the same answer and does nothing more) and increase `version` with every change of
the appointment. Never send clinical data (reason for visit, notes): it is refused.

Booking systems learn what became of each message from signed callbacks, or pull it:
`/v1/feed` reads the same events in order, and the status API answers for one message,
one appointment's messages, recent changes, or one event. A token sees its own
locations only.
"""


def _version() -> str:
    try:
        return version("notifier")
    except PackageNotFoundError:
        return "0.0.0"


def _api_token(settings: Settings) -> bytes:
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    if not token:
        raise SettingsError(
            "setting NOTIFIER_API_TOKEN is missing: the web process will not serve an open API"
        )
    if len(token) < MIN_TOKEN_LENGTH or token != token.strip():
        raise SettingsError(
            f"setting NOTIFIER_API_TOKEN is wrong: use at least {MIN_TOKEN_LENGTH} characters, "
            "without spaces around it"
        )
    return token.encode()


def create_app(
    settings: Settings,
    *,
    redis: Redis | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
) -> FastAPI:
    """The ASGI app of the web process.

    Parameters:
      settings: the deployment's settings; ``api_token`` is required, and ``redis_url``
        unless ``redis`` is given.
      redis: a Redis client to use instead of one of the deployment's Redis
        (the app then leaves closing it to the caller).
      clock: the current time, aware UTC.

    Raises:
      SettingsError: when a setting the web process needs is missing or wrong.
    """
    token = _api_token(settings)
    owns_redis = redis is None
    if redis is None:
        redis = connect_redis(settings, needed_by="web process")
    app_redis = redis

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_redis:
            app_redis.close()

    app = FastAPI(
        title="Patient notifier",
        summary="Appointment events in, the right patient messages out.",
        description=DESCRIPTION,
        version=_version(),
        lifespan=lifespan,
        # Served by notifier.web.documentation, behind the token or a console session.
        openapi_url=None, docs_url=None, redoc_url=None,
    )
    install_error_handlers(app)
    app.include_router(intake.router)
    app.include_router(feed.router)
    app.include_router(message_status.router)
    app.include_router(voice.router)
    app.include_router(inbound.router)
    app.include_router(status_callbacks.router)
    app.include_router(health.router)
    app.include_router(console_router)
    app.include_router(documentation.router)
    webhooks = frozenset(
        route.path for router in (voice.router, inbound.router, status_callbacks.router)
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith(WEBHOOK_PREFIX)
    )
    results = WebhookResults(webhooks)
    app.state.context = WebContext(
        settings=settings,
        redis=redis,
        intake=Intake(redis, settings),
        clock=clock,
        api_token=token,
        integrators=IntegratorStore(redis, settings, clock=clock),
        metrics_token=(settings.metrics_token.get_secret_value().encode()
                       if settings.metrics_token else None),
        webhook_results=results,
        destinations=destination_policy(settings),
    )
    app.add_middleware(CountWebhooks, results=results)
    app.add_middleware(ConsoleHeaders)

    @app.get("/healthz", tags=["operations"], summary="Liveness check (no token needed)")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_event_schema(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    summary=app.summary,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _with_event_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Publish the Event model, which the intake route reads itself (to check the token and
    the size before parsing) and so does not declare as a body parameter."""
    event = Event.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(event.pop("$defs", {}))
    components["Event"] = event
    return schema
