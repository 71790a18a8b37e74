"""The loopback Twilio (``tests.fakes.FakeTwilio``) in a process of its own, for benchmarks.

In the benchmark's own process its threads would share the benchmark's interpreter lock
(enqueueing and polling would slow its answers) and its CPU time would be counted with the
benchmark's. Here it runs in a child process, in a process group of its own, so that its
CPU time is measured apart (``cpu_seconds(process.pid)``).
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Self

from tests.fakes.twilio_server import FakeTwilio

_STOP = "stop"
_COUNT = "count"


class FakeTwilioProcess:
    """Starts a :class:`FakeTwilio` in a child process and asks it how many SMS it took.

    Use it as a context manager; ``settings_overrides()`` points the gateway at it, as
    :meth:`FakeTwilio.settings_overrides` does.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of the parent's threads
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), name="fake-twilio",
                                        daemon=True)
        self._overrides: dict[str, Any] = {}

    def __enter__(self) -> Self:
        self._process.start()
        self._overrides = self._connection.recv()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._connection.send(_STOP)
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()

    @property
    def pid(self) -> int:
        """The child's process id, also its process group's."""
        assert self._process.pid is not None
        return self._process.pid

    def settings_overrides(self) -> dict[str, Any]:
        return dict(self._overrides)

    def messages_taken(self) -> int:
        """How many SMS the fake has taken so far."""
        self._connection.send(_COUNT)
        count: int = self._connection.recv()
        return count


def _serve(connection: Connection) -> None:
    os.setsid()
    with FakeTwilio() as fake:
        connection.send(fake.settings_overrides())
        while connection.recv() == _COUNT:
            connection.send(len(fake.messages))
