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


def presented_token(request: Request) -> bytes:
    """The token of ``request``'s ``Authorization: Bearer <token>`` header, read as
    :data:`bearer` reads it (any case of ``Bearer``, spaces around the token dropped);
    empty when there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if not (scheme and token) or scheme.lower() != "bearer":
        return b""
    return token.encode()


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


def check_token(request: Request, expected: bytes | None) -> None:
    """Let the request through only with ``expected`` (compared in constant time); no
    token is expected when ``expected`` is None, so every request is refused.

    Parameters:
      request: the incoming request, whose bearer token is read.
      expected: the token that opens the route.

    Raises:
      ApiError: 401, when the token is missing or wrong.
    """
    given = presented_token(request)
    if not (given and expected and hmac.compare_digest(given, expected)):
        raise _refuse(request, given)


def deployment_credential(request: Request) -> Credential | None:
    """:data:`EVERY_LOCATION` when the request presents the deployment's own token
    (compared in constant time, no Redis); None otherwise."""
    given = presented_token(request)
    if given and hmac.compare_digest(given, web_context(request).api_token):
        return EVERY_LOCATION
    return None


def authenticate_request(request: Request) -> Credential:
    """What the request's bearer token lets it do: every location for the deployment's
    token, an integrator's locations for its token (found by the token's hash, one Redis
    read: call it from a thread); refused (401) otherwise, and 503 when the store cannot
    tell."""
    from redis import RedisError

    found = deployment_credential(request)
    if found is not None:
        return found
    context = web_context(request)
    given = presented_token(request)
    if looks_like_token(given.decode(errors="replace")):
        try:
            found = context.integrators.authenticate(given.decode(), now=context.clock())
        except RedisError as exc:
            log.error("cannot check an integrator's token: %s", type(exc).__name__)
            raise ApiError(503, "unavailable", "the token could not be checked right now; "
                           "retry later", headers={"Retry-After": "5"}) from None
        if found is not None:
            return found
    raise _refuse(request, given)


def authenticate(
    request: Request, credentials: Annotated[Credentials, Depends(bearer)]
) -> Credential:
    """:func:`authenticate_request` as a dependency (``credentials`` documents the scheme;
    the header is read the same way)."""
    return authenticate_request(request)


def require_token(
    request: Request, credentials: Annotated[Credentials, Depends(bearer)]
) -> None:
    """Let the request through only with a booking system's token."""
    authenticate_request(request)


def require_metrics_token(
    request: Request, credentials: Annotated[Credentials, Depends(metrics_bearer)]
) -> None:
    """Let the request through only with the metrics token (never the intake token)."""
    check_token(request, web_context(request).metrics_token)
