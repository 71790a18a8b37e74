"""The console's router: every route under ``/console``, answering refusals as pages."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from notifier.errors import Refusal
from notifier.web.console.browser import PREFIX


class ConsoleRoute(APIRoute):
    """A route whose dependencies may end the request with a :class:`Refusal` (a redirect
    to sign-in, a JSON 401, a 403 or 404 page) instead of the app's JSON error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Refusal as refusal:
                assert isinstance(refusal.response, Response)
                return refusal.response

        return handle


def console_router() -> APIRouter:
    """A router for one group of console pages (kept out of the OpenAPI schema, which
    documents the integrators' API)."""
    return APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
