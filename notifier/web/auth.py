"""The bearer token that booking systems present to the intake API."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from notifier.web.context import web_context
from notifier.web.errors import ApiError

log = logging.getLogger(__name__)

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description="The token set in NOTIFIER_API_TOKEN, as `Authorization: Bearer <token>`.",
)


def unauthorized() -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        "send the gateway's API token as 'Authorization: Bearer <token>'",
        headers={"WWW-Authenticate": "Bearer"},
    )


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Let the request through only with the configured token (compared in constant time)."""
    expected = web_context(request).api_token
    given = credentials.credentials.encode() if credentials else b""
    if not (given and hmac.compare_digest(given, expected)):
        client = request.client.host if request.client else "unknown"
        log.warning(
            "refused %s %s from %s: %s bearer token",
            request.method,
            request.url.path,
            client,
            "wrong" if given else "no",
        )
        raise unauthorized()
