"""How ``notifier web`` serves the app: uvicorn with bounded connections
(:mod:`notifier.web.connections`), an explicit list of trusted proxies, and file
descriptors to match.

The process raises its own soft limit of open files to the hard one, and never holds
more connections than that limit leaves room for (with the sockets one accept burst can
bring, and the Redis pool, log and thread pool); running out would make every accept
fail, which asyncio logs with a traceback each time.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
from typing import Any

import uvicorn
from fastapi import FastAPI

from notifier.settings import Settings
from notifier.web.connections import ConnectionGuard, guarded_protocol
from notifier.web.overload import Closed, OverloadLog

log = logging.getLogger(__name__)

# Connections accepted per readiness of the listening socket (asyncio uses the backlog),
# so that one burst cannot overshoot the file limit by much.
BACKLOG = 128
# File descriptors kept for everything but client connections.
RESERVED_FILES = 64
_OUT_OF_FILES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def raise_files_limit() -> int:
    """Raise this process's soft limit of open files to its hard limit; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        return soft
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
        return hard
    return soft


def connection_cap(wanted: int, files_limit: int) -> int:
    """The connections to allow: ``wanted``, or fewer when the file limit leaves less room."""
    return max(1, min(wanted, files_limit - BACKLOG - RESERVED_FILES))


def trusted_proxies(settings: Settings) -> list[str]:
    return [part.strip() for part in settings.web_trusted_proxies.split(",") if part.strip()]


class GuardedServer(uvicorn.Server):
    """uvicorn's server, counting failed accepts (no file descriptor left) as overload
    instead of logging a traceback for each.

    Parameters:
      config: uvicorn's configuration.
      overload: where failed accepts are counted.
    """

    def __init__(self, config: uvicorn.Config, *, overload: OverloadLog) -> None:
        super().__init__(config)
        self.overload = overload

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().set_exception_handler(self._loop_error)
        await super().startup(sockets)

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _OUT_OF_FILES:
            self.overload.note(Closed.NO_FILES)
        else:
            loop.default_exception_handler(context)


def serve(app: FastAPI, settings: Settings, *, host: str, port: int, shutdown_grace: int) -> None:
    """Serve ``app`` on ``host``:``port`` until SIGTERM or SIGINT.

    Parameters:
      app: the web process's app.
      settings: the ``web_*`` limits and trusted proxies.
      host, port: where to listen.
      shutdown_grace: seconds a stopping process waits for requests in flight.
    """
    files = raise_files_limit()
    cap = connection_cap(settings.web_max_connections, files)
    if cap < settings.web_max_connections:
        log.warning(
            "NOTIFIER_WEB_MAX_CONNECTIONS lowered to %d: the process may open %d files",
            cap, files,
        )
    overload = OverloadLog(interval=settings.web_overload_log_interval.total_seconds())
    guard = ConnectionGuard(
        max_connections=cap,
        header_timeout=settings.web_header_timeout.total_seconds(),
        body_timeout=settings.web_body_timeout.total_seconds(),
        overload=overload,
    )
    proxies = trusted_proxies(settings)
    config = uvicorn.Config(
        app, host=host, port=port,
        log_config=None,  # uvicorn's records go through our handler, which redacts
        http=guarded_protocol(guard),
        backlog=BACKLOG,
        # Idle sockets are bounded by the guard, which never refuses a request because
        # of them; uvicorn's own limit counts them and would (503).
        limit_concurrency=None,
        # Without a trusted proxy, X-Forwarded-For and -Proto are ignored: a client could
        # otherwise choose the address that console sign-in throttling and logs see.
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or [],
        # A client that stalls must not hold a stopping process forever.
        timeout_graceful_shutdown=shutdown_grace,
    )
    GuardedServer(config, overload=overload).run()
