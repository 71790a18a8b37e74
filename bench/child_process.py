"""A loopback fake for benchmarks, in a child process of its own.

In the benchmark's own process a fake's threads would share the benchmark's interpreter
lock, and its CPU time would be counted with the benchmark's. In a child process, in a
process group of its own, its CPU time is measured apart (``cpu_seconds(child.pid)``).
The child talks to the benchmark over a pipe: it first sends what the benchmark needs to
reach it, then answers questions until it is told to stop.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Self

STOP = "stop"


class ChildProcess:
    """Runs ``serve(connection)`` in a child process while the context lasts.

    Parameters:
      serve: the child's body: it sends one first message, then answers until it
        receives :data:`STOP`.
      name: the process's name.
    """

    def __init__(self, serve: Callable[[Connection], None], *, name: str) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of the parent's threads
        self._connection, child = context.Pipe()
        self._process = context.Process(target=serve, args=(child,), name=name, daemon=True)
        self.first: Any = None

    def __enter__(self) -> Self:
        self._process.start()
        self.first = self._connection.recv()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._connection.send(STOP)
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()

    @property
    def pid(self) -> int:
        """The child's process id, also its process group's."""
        assert self._process.pid is not None
        return self._process.pid

    def ask(self, question: Any) -> Any:
        """Send ``question`` to the child and return its answer."""
        self._connection.send(question)
        return self._connection.recv()
