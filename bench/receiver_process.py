"""The loopback callback receiver (``tests.fakes.webhook_receiver.FakeReceiver``) in a
process of its own, for benchmarks.

Like ``bench/twilio_process.py``: in the benchmark's process its threads would share the
benchmark's interpreter lock, and its CPU time (a signature check per request) would be
counted with the benchmark's. Here it runs in a child process, in a process group of its
own (``cpu_seconds(receiver.pid)``). Endpoints made after it started give it their
secrets with :meth:`ReceiverProcess.accept_secret`.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Self

from standardwebhooks import Webhook

from tests.fakes.webhook_receiver import FakeReceiver

_STOP = "stop"
_COUNT = "count"
_SECRET = "secret"


class ReceiverProcess:
    """Starts a :class:`FakeReceiver` (plain HTTP on 127.0.0.1) in a child process.

    Use it as a context manager. Stopping it answers every request ``/slow`` still holds.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of the parent's threads
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), name="fake-receiver",
                                        daemon=True)
        self.port = 0

    def __enter__(self) -> Self:
        self._process.start()
        self.port = self._connection.recv()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._connection.send((_STOP, ""))
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()

    @property
    def pid(self) -> int:
        """The child's process id, also its process group's."""
        assert self._process.pid is not None
        return self._process.pid

    def url(self, path: str) -> str:
        """The URL of ``path`` (see the receiver's paths) on this receiver."""
        return f"http://127.0.0.1:{self.port}{path}"

    def accept_secret(self, secret: str) -> None:
        """Verify signatures made with ``secret`` (a ``whsec_`` secret) from now on."""
        self._connection.send((_SECRET, secret))
        self._connection.recv()

    def received(self) -> Counter[int]:
        """The requests received so far, by the status answered (or to be answered, for
        a request ``/slow`` holds)."""
        self._connection.send((_COUNT, ""))
        statuses: Counter[int] = self._connection.recv()
        return statuses


def _serve(connection: Connection) -> None:
    os.setsid()
    with FakeReceiver(secrets=[]) as fake:
        connection.send(fake.port)
        while True:
            what, secret = connection.recv()
            if what == _SECRET:
                fake.webhooks.append(Webhook(secret))
                connection.send(None)
            elif what == _COUNT:
                connection.send(Counter(received.status for received in list(fake.received)))
            else:
                return
