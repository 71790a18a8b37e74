"""The bearer tokens: booking systems' intake token, and Prometheus' read-only metrics
token. Each opens its own routes only: a scraper's secret cannot send an event, and the
intake token does not read the metrics."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from notifier.errors import ApiError
from notifier.web.context import web_context

log = logging.getLogger(__name__)

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description="The token set in NOTIFIER_API_TOKEN, as `Authorization: Bearer <token>`.",
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


def presented_token(request: Request) -> bytes:
    """The token of ``request``'s ``Authorization: Bearer <token>`` header, read as
    :data:`bearer` reads it (any case of ``Bearer``, spaces around the token dropped);
    empty when there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if not (scheme and token) or scheme.lower() != "bearer":
        return b""
    return token.encode()


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
        client = request.client.host if request.client else "unknown"
        log.warning(
            "refused %s %s from %s: %s bearer token",
            request.method,
            request.url.path,
            client,
            "wrong" if given else "no",
        )
        raise unauthorized()


def require_token(
    request: Request, credentials: Annotated[Credentials, Depends(bearer)]
) -> None:
    """Let the request through only with the intake API token (``credentials`` documents
    the scheme; :func:`check_token` reads the header the same way)."""
    check_token(request, web_context(request).api_token)


def require_metrics_token(
    request: Request, credentials: Annotated[Credentials, Depends(metrics_bearer)]
) -> None:
    """Let the request through only with the metrics token (never the intake token)."""
    check_token(request, web_context(request).metrics_token)
