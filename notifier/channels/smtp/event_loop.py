"""The background event loop the synchronous workers run their SMTP work on.

The worker is synchronous (Dramatiq threads), aiosmtplib is not: every client runs its
SMTP work on one background event-loop thread per process (:func:`shared_loop`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_loop_guard = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def shared_loop() -> asyncio.AbstractEventLoop:
    """This process's background event loop (started on first use; a forked child
    starts its own)."""
    global _loop, _loop_pid
    with _loop_guard:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="notifier-smtp-loop", daemon=True
            )
            thread.start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def run_on_loop(coroutine: Coroutine[Any, Any, T], *, timeout: float) -> T:
    """Run ``coroutine`` on :func:`shared_loop` and wait for it from this thread."""
    future = asyncio.run_coroutine_threadsafe(coroutine, shared_loop())
    try:
        return future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise TimeoutError("the SMTP work did not finish in time") from None
