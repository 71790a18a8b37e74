"""The bearer tokens: booking systems' tokens, and Prometheus' read-only metrics token.
Each opens its own routes only: a scraper's secret cannot send an event, and a booking
system's token does not read the metrics.

A booking system presents either the deployment's own token (``NOTIFIER_API_TOKEN``,
which acts for every location) or its integrator's token (``ntk_...``, the current one or
the previous one within its overlap), which acts for the integrator's locations only."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from notifier.errors import ApiError
from notifier.integrators.credentials import EVERY_LOCATION, Credential, looks_like_token
from notifier.web.context import web_context

log = logging.getLogger(__name__)

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description="The token set in NOTIFIER_API_TOKEN, or an integrator's own token, as "
    "`Authorization: Bearer <token>`.",
)
metrics_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="metricsBearerAuth",
    description="The token set in NOTIFIER_METRICS_TOKEN, as `Authorization: Bearer <token>`.",
)

Credentials = HTTPAuthorizationCredentials | None


def unauthorized() -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        "send the gateway's API token as 'Authorization: Bearer <token>'",
        headers={"WWW-Authenticate": "Bearer"},
    )


def forbidden_location(location: str) -> ApiError:
    """The refusal of an event about a location the token does not act for."""
    return ApiError(
        403,
        "forbidden_location",
        f"this token does not act for location {location}; ask the gateway's operators "
        "to add the location to your integrator",
    )


def _refuse(request: Request, given: bytes) -> ApiError:
    client = request.client.host if request.client else "unknown"
    log.warning(
        "refused %s %s from %s: %s bearer token",
        request.method,
        request.url.path,
        client,
        "wrong" if given else "no",
    )
    return unauthorized()


def _check(request: Request, credentials: Credentials, expected: bytes | None) -> None:
    """Let the request through only with ``expected`` (compared in constant time); no
    token is expected when ``expected`` is None, so every request is refused."""
    given = credentials.credentials.encode() if credentials else b""
    if not (given and expected and hmac.compare_digest(given, expected)):
        raise _refuse(request, given)


def authenticate(
    request: Request, credentials: Annotated[Credentials, Depends(bearer)]
) -> Credential:
    """What the request's bearer token lets it do: every location for the deployment's
    token (compared in constant time), an integrator's locations for its token (found by
    the token's hash); refused (401) otherwise, and 503 when the store cannot tell."""
    from redis import RedisError

    context = web_context(request)
    given = credentials.credentials if credentials else ""
    if given and hmac.compare_digest(given.encode(), context.api_token):
        return EVERY_LOCATION
    if looks_like_token(given):
        try:
            found = context.integrators.authenticate(given, now=context.clock())
        except RedisError as exc:
            log.error("cannot check an integrator's token: %s", type(exc).__name__)
            raise ApiError(503, "unavailable", "the token could not be checked right now; "
                           "retry later", headers={"Retry-After": "5"}) from None
        if found is not None:
            return found
    raise _refuse(request, given.encode())


def require_token(
    request: Request, credentials: Annotated[Credentials, Depends(bearer)]
) -> None:
    """Let the request through only with a booking system's token."""
    authenticate(request, credentials)


def require_metrics_token(
    request: Request, credentials: Annotated[Credentials, Depends(metrics_bearer)]
) -> None:
    """Let the request through only with the metrics token (never the intake token)."""
    _check(request, credentials, web_context(request).metrics_token)
