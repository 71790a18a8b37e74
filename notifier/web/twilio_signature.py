"""Twilio webhooks prove who they are: every request is checked against its
``X-Twilio-Signature`` before anything else happens.

The URL signed by Twilio is the public one, built from ``NOTIFIER_PUBLIC_BASE_URL``: behind
a proxy the request's own scheme and host differ (``http`` for ``https``, an internal
host), and validation would fail.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from fastapi import Request
from twilio.request_validator import RequestValidator

from notifier.errors import ApiError
from notifier.web.body import read_body
from notifier.web.context import web_context

log = logging.getLogger(__name__)

# Twilio's webhook bodies are a few kilobytes at most.
MAX_WEBHOOK_BYTES = 16 * 1024


def forbidden() -> ApiError:
    return ApiError(
        403,
        "forbidden",
        "the request is not signed by this gateway's Twilio account (X-Twilio-Signature)",
    )


def public_url(base_url: str, request: Request) -> str:
    url = base_url.rstrip("/") + request.url.path
    return f"{url}?{request.url.query}" if request.url.query else url


async def signed_twilio_form(request: Request) -> dict[str, str]:
    """The webhook's form parameters, or a 403 :class:`ApiError` when the signature is
    missing, wrong, or cannot be checked because Twilio is not configured."""
    settings = web_context(request).settings
    token = settings.twilio_auth_token
    if token is None or not settings.public_base_url:
        log.warning("refused a Twilio webhook: Twilio credentials or public URL not configured")
        raise forbidden()
    body = await read_body(request, limit=MAX_WEBHOOK_BYTES)
    try:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        raise forbidden() from None
    signature = request.headers.get("X-Twilio-Signature", "")
    validator = RequestValidator(token.get_secret_value())
    if not signature or not validator.validate(
        public_url(settings.public_base_url, request), form, signature
    ):
        log.warning("refused a Twilio webhook to %s: bad or missing signature", request.url.path)
        raise forbidden()
    return form
