"""A FastAPI route that runs its endpoint as a plain Starlette one.

FastAPI documents a route from its declaration (request body, responses, examples,
security) and, on every request, solves its dependencies (a sync one costs a hop to the
thread pool and back) and validates its answer against the response model. The busiest
routes read their request themselves, so only the documentation is wanted: this route
keeps it and calls the endpoint with the request alone.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class PlainRoute(APIRoute):
    """An :class:`APIRoute` whose endpoint, a coroutine function, takes the request and
    returns the response itself.

    What the declaration names is documentation only: its ``dependencies`` (a token
    check included) are never run, and ``response_model`` never applied; the endpoint does
    that work. Errors it raises reach the app's exception handlers as from any route.

    Parameters: those of :class:`APIRoute` (``router.post(...)`` passes them).
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{endpoint.__name__}: a plain route's endpoint is a coroutine")
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Endpoint:
        handler: Endpoint = self.endpoint
        return handler
