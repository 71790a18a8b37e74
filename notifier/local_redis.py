"""A private redis-server: started on a free loopback port in a folder of its own and
stopped afterwards. The tests and the demo use it, so neither touches a Redis it did not
start."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from redis import ConnectionError as RedisConnectionError
from redis import Redis

from notifier.errors import RedisServerMissing

INSTALL_HINT = (
    "redis-server is not installed; run: sudo apt-get install -y redis-server "
    "(Debian/Ubuntu) or: brew install redis (macOS)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process.

    Parameters:
      workdir: where it keeps its files.
      port: the loopback port it listens on.
      extra_args: more redis-server options (for example a durability config file).
    """

    def __init__(
        self, workdir: Path, *, port: int | None = None, extra_args: tuple[str, ...] = ()
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisServerMissing(INSTALL_HINT)
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.binary, *self.extra_args, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.workdir), "--save", "", "--daemonize", "no",
             "--logfile", str(self.workdir / "redis.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: a Ctrl-C meant for the caller must not stop Redis before
            # the processes that use it have finished.
            start_new_session=True,
        )
        redis = Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.ping()
                return
            except RedisConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis-server did not start; see {self.workdir}/redis.log"
                    ) from None
                time.sleep(0.02)
            finally:
                redis.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def running_redis(
    workdir: Path, *, port: int | None = None, extra_args: tuple[str, ...] = ()
) -> Iterator[RedisServer]:
    server = RedisServer(workdir, port=port, extra_args=extra_args)
    server.start()
    try:
        yield server
    finally:
        server.stop()
