"""Counts the Redis round trips a process makes, from inside it, for benchmarks.

Redis's MONITOR shows each command, not each round trip: a pipeline's commands appear one
by one, as a transaction's do. So the count is taken in the client: every call of
redis-py's ``Connection.send_packed_command`` is one round trip (a single command, or a
whole pipeline written at once), and the command names are read back from the bytes it
writes. A round trip is Dramatiq's (its broker's enqueue and dispatch script, its
consumer's fetches, acks and heartbeats) when the nearest frame of the call stack that
belongs to either package is in ``dramatiq``, the gateway's when it is in ``notifier``.

A process installs the counter with :func:`install` when ``BENCH_ROUND_TRIPS_DIR`` names a
folder (``bench/http_load.py``'s web process and ``bench/round_trip_worker.py`` do); it
writes its counts there as ``<pid>.json`` every 50 ms. The benchmark reads them with
:func:`read`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ENVIRONMENT = "BENCH_ROUND_TRIPS_DIR"
DRAMATIQ = "dramatiq"
OURS = "ours"
GATEWAY = "notifier"
SETUP = frozenset({"HELLO", "CLIENT", "AUTH", "SELECT"})
# Commands that change nothing in the data set: a round trip made only of these is a read.
READS = frozenset({
    "GET", "MGET", "STRLEN", "EXISTS", "TTL", "PTTL", "TYPE", "HGET", "HMGET", "HGETALL",
    "HKEYS", "HVALS", "HLEN", "HEXISTS", "LLEN", "LRANGE", "LINDEX", "SMEMBERS", "SISMEMBER",
    "SCARD", "ZRANGE", "ZRANGEBYSCORE", "ZREVRANGE", "ZREVRANGEBYSCORE", "ZSCORE", "ZCARD",
    "ZCOUNT", "ZRANK", "SCAN", "HSCAN", "ZSCAN", "SSCAN", "PING", "ECHO", "INFO", "TIME",
    "EVALSHA_RO", "EVAL_RO", "MULTI", "EXEC", "WATCH", "UNWATCH", "CLIENT", "HELLO",
    "SELECT", "SCRIPT", "MEMORY", "DBSIZE", "KEYS", "XLEN", "XRANGE", "PFCOUNT", "BITCOUNT",
})


def command_names(packed: Any) -> list[str]:
    """The command names in the RESP bytes of one write (``send_packed_command``'s
    ``command``: bytes, or a list of bytes and memoryviews)."""
    data = (bytes(packed) if isinstance(packed, (bytes, bytearray, memoryview))
            else b"".join(bytes(part) for part in packed))
    names: list[str] = []
    at = 0
    while at < len(data) and data[at:at + 1] == b"*":
        end = data.index(b"\r\n", at)
        count = int(data[at + 1:end])
        at = end + 2
        for index in range(count):
            end = data.index(b"\r\n", at)
            length = int(data[at + 1:end])
            if index == 0:
                names.append(data[end + 2:end + 2 + length].decode().upper())
            at = end + 2 + length + 2
    return names


def is_write(names: list[str]) -> bool:
    """Whether a round trip made of ``names`` may change data (a script counts as a write)."""
    return any(name not in READS for name in names)


class Counts:
    """Round trips so far in this process: by whose (ours or Dramatiq's), and for ours by
    their commands (``"HGET+GET"`` for a pipeline of the two)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.round_trips: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()
        self.shapes: Counter[str] = Counter()

    def add(self, names: list[str], *, whose: str) -> None:
        if set(names) <= SETUP:  # a new connection's handshake, not the work's
            whose = "connection setup"
        with self.lock:
            self.round_trips[whose] += 1
            if is_write(names):
                self.writes[whose] += 1
            if whose == OURS:
                self.shapes["+".join(names)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"at": time.time(), "round_trips": dict(self.round_trips),
                    "writes": dict(self.writes), "shapes": dict(self.shapes)}


def install(folder: Path) -> Counts:
    """Count this process's round trips from now on; dump them into ``folder``."""
    import redis.connection

    counts = Counts()
    original = redis.connection.Connection.send_packed_command

    def counted(self: Any, command: Any, check_health: bool = True) -> None:
        counts.add(command_names(command), whose=_whose())
        original(self, command, check_health)

    redis.connection.Connection.send_packed_command = counted  # type: ignore[method-assign]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{os.getpid()}.json"

    def dump() -> None:
        while True:
            scratch = target.with_suffix(".tmp")
            scratch.write_text(json.dumps(counts.snapshot()))
            scratch.replace(target)
            time.sleep(0.05)

    threading.Thread(target=dump, name="round-trip-dump", daemon=True).start()
    return counts


def install_from_environment() -> None:
    """:func:`install` into ``$BENCH_ROUND_TRIPS_DIR`` if it is set."""
    if folder := os.environ.get(ENVIRONMENT):
        install(Path(folder))


def _whose() -> str:
    """Dramatiq's when the nearest caller that is Dramatiq's or the gateway's is Dramatiq's
    (a send runs inside Dramatiq's worker thread: further out is Dramatiq again)."""
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module == DRAMATIQ or module.startswith(DRAMATIQ + "."):
            return DRAMATIQ
        if module.startswith(GATEWAY):
            return OURS
        frame = frame.f_back  # type: ignore[assignment]
    return OURS


def read(folder: Path, *, timeout: float = 5.0) -> dict[str, Counter[str]]:
    """The counts of every process that dumped into ``folder``, summed, each dump taken
    after this call began (those of processes that ended are read as they are)."""
    asked = time.time()
    deadline = time.monotonic() + timeout
    while True:
        dumps = [json.loads(path.read_text()) for path in folder.glob("*.json")]
        fresh = all(dump["at"] > asked for dump in dumps)
        if fresh or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    total: dict[str, Counter[str]] = {"round_trips": Counter(), "writes": Counter(),
                                      "shapes": Counter()}
    for dump in dumps:
        for part, counter in total.items():
            counter.update(dump[part])
    return total


def difference(after: dict[str, Counter[str]],
               before: dict[str, Counter[str]]) -> dict[str, Counter[str]]:
    return {part: after[part] - before.get(part, Counter()) for part in after}
