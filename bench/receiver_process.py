"""The loopback callback receiver (``tests.fakes.webhook_receiver.FakeReceiver``) in a
process of its own, for benchmarks.

Like ``bench/twilio_process.py``: in the benchmark's process its threads would share the
benchmark's interpreter lock, and its CPU time (a signature check per request) would be
counted with the benchmark's. Here it runs in a child process, in a process group of its
own (``cpu_seconds(receiver.pid)``). Endpoints made after it started give it their
secrets with :meth:`ReceiverProcess.accept_secret`.
"""

from __future__ import annotations

import os
from collections import Counter
from multiprocessing.connection import Connection

from standardwebhooks import Webhook

from bench.child_process import STOP, ChildProcess
from tests.fakes.webhook_receiver import FakeReceiver

_COUNT = "count"
_SECRET = "secret"


class ReceiverProcess(ChildProcess):
    """Starts a :class:`FakeReceiver` (plain HTTP on 127.0.0.1) in a child process.

    Use it as a context manager. Stopping it answers every request ``/slow`` still holds.
    """

    def __init__(self) -> None:
        super().__init__(_serve, name="fake-receiver")

    @property
    def port(self) -> int:
        port: int = self.first
        return port

    def url(self, path: str) -> str:
        """The URL of ``path`` (see the receiver's paths) on this receiver."""
        return f"http://127.0.0.1:{self.port}{path}"

    def accept_secret(self, secret: str) -> None:
        """Verify signatures made with ``secret`` (a ``whsec_`` secret) from now on."""
        self.ask((_SECRET, secret))

    def received(self) -> Counter[int]:
        """The requests received so far, by the status answered (or to be answered, for
        a request ``/slow`` holds)."""
        statuses: Counter[int] = self.ask((_COUNT, ""))
        return statuses


def _serve(connection: Connection) -> None:
    os.setsid()
    with FakeReceiver(secrets=[]) as fake:
        connection.send(fake.port)
        while (message := connection.recv()) != STOP:
            what, secret = message
            if what == _SECRET:
                fake.webhooks.append(Webhook(secret))
                connection.send(None)
            elif what == _COUNT:
                connection.send(Counter(received.status for received in list(fake.received)))
