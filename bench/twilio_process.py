"""The loopback Twilio (``tests.fakes.FakeTwilio``) in a process of its own, for benchmarks.

In the benchmark's own process its threads would share the benchmark's interpreter lock
(enqueueing and polling would slow its answers); see :mod:`bench.child_process`.
"""

from __future__ import annotations

import os
from multiprocessing.connection import Connection
from typing import Any

from bench.child_process import ChildProcess
from tests.fakes.twilio_server import FakeTwilio

_COUNT = "count"


class FakeTwilioProcess(ChildProcess):
    """Starts a :class:`FakeTwilio` in a child process and asks it how many SMS it took.

    Use it as a context manager; ``settings_overrides()`` points the gateway at it, as
    :meth:`FakeTwilio.settings_overrides` does.
    """

    def __init__(self) -> None:
        super().__init__(_serve, name="fake-twilio")

    def settings_overrides(self) -> dict[str, Any]:
        return dict(self.first)

    def messages_taken(self) -> int:
        """How many SMS the fake has taken so far."""
        count: int = self.ask(_COUNT)
        return count


def _serve(connection: Connection) -> None:
    os.setsid()
    with FakeTwilio() as fake:
        connection.send(fake.settings_overrides())
        while connection.recv() == _COUNT:
            connection.send(len(fake.messages))
