"""Security headers on every response under ``/console``: pages, files, redirects and
errors alike (a middleware, so that no answer escapes them).

The Content-Security-Policy lets pages load scripts, styles, images and data from the
gateway only: no inline script or style, no other site, no framing (against
clickjacking, with ``X-Frame-Options`` for older browsers).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notifier.web.console.browser import PREFIX

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    # Swagger UI's stylesheet draws its icons as data: images.
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class ConsoleHeaders:
    """ASGI middleware adding :data:`HEADERS` to every response under the console's path.

    Parameters:
      app: the application it wraps.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # The server's own 500 page would be sent past this middleware: answer it
            # here, with the headers, and let the error go on to be logged.
            if not started:
                await PlainTextResponse("Internal Server Error", status_code=500,
                                        headers=HEADERS)(scope, receive, send)
            raise
