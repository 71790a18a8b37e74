"""The gateway's real processes for a test: started, watched, stopped, killed and restarted.

Each process is the command an operator runs (``notifier web``, ``dramatiq notifier.worker``,
``notifier scheduler``) in a subprocess of its own session (its own process group), with the
``NOTIFIER_*`` settings of the test and nothing inherited from the caller's environment.
Starting one waits, by condition and with a bound, until it is ready:

- web: ``GET /healthz`` answers 200;
- worker: a Dramatiq broker that was not there before heartbeats in
  ``{prefix}-dramatiq:__heartbeats__`` and the worker has said it is ready;
- scheduler: its heartbeat key (``Keys(prefix).scheduler_heartbeat``) shows a pass made
  after it started.

Stopping sends SIGTERM to the process itself (for a worker, the Dramatiq master only,
as the README's "Stopping the gateway" asks), waits a bounded time, then SIGKILLs its
whole group. :meth:`Processes.kill`
SIGKILLs the whole group at once (the master and its worker processes), for fault tests.
Everything a process writes goes to a file per start under the test's folder;
:meth:`Processes.output` reads them back (tests check them for patient data).

Typical use (see ``tests/e2e/conftest.py`` for the fixture)::

    config = GatewayConfig(redis_url=url, api_token="t" * 32, window_sms="always")
    with Processes(config, workdir=tmp_path / "processes") as processes:
        processes.start_worker(threads=4)
        processes.start_scheduler()
        web = processes.start_web()
        ...
        processes.kill("worker")
        processes.start_worker()
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import resource
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from pydantic import SecretStr

from notifier.local_redis import free_port
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings
from notifier.store.connect import connect_redis
from notifier.store.keys import Keys

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
POLL = 0.05
# What a Dramatiq worker process logs once its consumers and worker threads run.
WORKER_READY = "ready for action"


class HarnessError(AssertionError):
    """A process did not start, stop or behave in time; the message says which and points
    at its output."""


def wait_until(
    condition: Callable[[], Any], *, timeout: float, what: str, poll: float = POLL,
    hint: Callable[[], str] | None = None,
) -> Any:
    """Poll ``condition`` until it returns something truthy and return that; after
    ``timeout`` seconds fail with ``what`` (and ``hint()``, e.g. the state observed)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            detail = f" ({hint()})" if hint is not None else ""
            raise HarnessError(f"timed out after {timeout:g}s waiting for {what}{detail}")
        time.sleep(poll)


def _env_value(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        if seconds != int(seconds):
            raise ValueError(f"durations are whole seconds in the environment, not {value}")
        return f"{int(seconds)}s"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_env_value(item) for item in value)
    return str(value)


@dataclass(frozen=True)
class GatewayConfig:
    """The settings a test gives its processes, as ``Settings`` field values.

    The same values build the test's own :class:`Settings` (to read Redis as the
    processes do) and the processes' ``NOTIFIER_*`` environment.

    Parameters:
      values: ``Settings`` field names and values (strings as in the environment, numbers,
        paths, whole-second timedeltas); None values are left out.
    """

    values: Mapping[str, object]

    def __init__(self, **values: object) -> None:
        object.__setattr__(self, "values", {k: v for k, v in values.items() if v is not None})
        self.settings()  # a wrong value fails here, not in three subprocesses

    def with_values(self, **values: object) -> GatewayConfig:
        return GatewayConfig(**{**self.values, **values})

    def settings(self) -> Settings:
        return Settings(**self.values)  # type: ignore[arg-type]

    def environment(self) -> dict[str, str]:
        """This process's environment without any ``NOTIFIER_*``, plus the test's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
        env.update({f"NOTIFIER_{name.upper()}": _env_value(v) for name, v in self.values.items()})
        env["PYTHONUNBUFFERED"] = "1"  # output reaches the file before a SIGKILL
        return env


@dataclass
class Managed:
    """One named process and its starts.

    Parameters:
      name: how the test calls it (``"web"``, ``"worker"``, ``"worker-2"``...).
      command: the command line.
      ready: the readiness condition, given the start's wall-clock time (epoch seconds)
        and the Redis state captured just before it.
      before: captures that Redis state (e.g. the heartbeats already there).
      port: the web port, for a web process.
      fd_limit: the process's open-files limit (RLIMIT_NOFILE), when the test sets one.
    """

    name: str
    command: list[str]
    ready: Callable[[Managed, float, Any], bool]
    before: Callable[[], Any] = lambda: None
    port: int | None = None
    fd_limit: int | None = None
    popen: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)
    _log_file: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise HarnessError(f"{self.name} is not running")
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        """Everything every start of this process wrote so far."""
        return "".join(path.read_text(errors="replace") for path in self.logs if path.exists())

    def latest_output(self) -> str:
        """What the latest start wrote so far."""
        return self.logs[-1].read_text(errors="replace") if self.logs else ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.latest_output().splitlines()[-lines:])


class Processes:
    """The gateway's processes for one test, against the test's own Redis.

    Parameters:
      config: the settings of every process (``redis_url`` or ``redis_sentinels`` is
        required).
      workdir: where the processes run and their output files go.
      ready_timeout: seconds a process gets to become ready.
      stop_timeout: seconds a process gets to exit after SIGTERM before SIGKILL.
    """

    def __init__(
        self, config: GatewayConfig, *, workdir: Path, ready_timeout: float = READY_TIMEOUT,
        stop_timeout: float = STOP_TIMEOUT,
    ) -> None:
        self.config = config
        self.settings = config.settings()
        self.workdir = workdir
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.keys = Keys(self.settings.queue_prefix)
        self.namespace = f"{self.settings.queue_prefix}-dramatiq"
        self.redis = connect_redis(self.settings, needed_by="test harness")
        self.processes: dict[str, Managed] = {}
        workdir.mkdir(parents=True, exist_ok=True)

    # -- starting ---------------------------------------------------------------------------

    def start_web(
        self, name: str = "web", *, port: int | None = None, fd_limit: int | None = None
    ) -> Managed:
        """``notifier web`` on 127.0.0.1 and a free port (``Managed.port``); with
        ``fd_limit``, under that open-files limit (soft and hard), as on a small host."""
        port = port or free_port()
        command = [sys.executable, "-m", "notifier", "web", "--host", "127.0.0.1",
                   "--port", str(port)]
        managed = Managed(name, command, ready=_healthz_answers, port=port, fd_limit=fd_limit)
        return self._start(managed)

    def start_worker(
        self, name: str = "worker", *, processes: int = 1, threads: int = 4,
        module: str = "notifier.worker", through_cli: bool = False,
        queues: Sequence[str] = (),
    ) -> Managed:
        """``dramatiq notifier.worker`` (the Dramatiq master and its worker processes), or
        with ``through_cli`` ``notifier worker``, which becomes that same master; on
        ``queues`` only when given (else every queue, or ``notifier worker``'s own)."""
        options = ["--processes", str(processes), "--threads", str(threads)]
        if queues:
            options += ["--queues", *queues]
        command = (
            [sys.executable, "-m", "notifier", "worker", *options] if through_cli
            else [sys.executable, "-m", "dramatiq", module, *options]
        )
        return self._start(
            Managed(name, command, ready=self._worker_ready(processes), before=self._heartbeats)
        )

    def start_scheduler(self, name: str = "scheduler") -> Managed:
        command = [sys.executable, "-m", "notifier", "scheduler"]
        return self._start(Managed(name, command, ready=self._scheduler_ready))

    def restart(self, name: str) -> Managed:
        """Stop ``name`` if it runs (SIGTERM, then SIGKILL), and start it again."""
        managed = self._get(name)
        if managed.running:
            self.stop(name)
        return self._start(managed)

    def _start(self, managed: Managed) -> Managed:
        if managed.running:
            raise HarnessError(f"{managed.name} is already running")
        self.processes[managed.name] = managed
        log_path = self.workdir / f"{managed.name}.{len(managed.logs) + 1}.log"
        managed.logs.append(log_path)
        managed._log_file = log_path.open("wb")
        before = managed.before()
        started = time.time()
        managed.popen = subprocess.Popen(
            managed.command, cwd=self.workdir, env=self.config.environment(),
            stdin=subprocess.DEVNULL, stdout=managed._log_file, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches all of it
            preexec_fn=_files_limit(managed.fd_limit),
        )

        def ready() -> bool:
            if not managed.running:
                raise HarnessError(
                    f"{managed.name} exited with status {managed.popen and managed.popen.poll()} "
                    f"while starting; its output ends with:\n{managed.tail()}"
                )
            return managed.ready(managed, started, before)

        try:
            wait_until(ready, timeout=self.ready_timeout, what=f"{managed.name} to be ready",
                       hint=lambda: f"output so far:\n{managed.tail()}")
        except BaseException:
            self._kill_group(managed)
            raise
        return managed

    # -- readiness --------------------------------------------------------------------------

    def _heartbeats(self) -> set[bytes]:
        return _members(self.redis.zrange(f"{self.namespace}:__heartbeats__", 0, -1))

    def _worker_ready(self, processes: int) -> Callable[[Managed, float, Any], bool]:
        def ready(managed: Managed, started: float, before: Any) -> bool:
            beating = _members(self.redis.zrangebyscore(
                f"{self.namespace}:__heartbeats__", int(started * 1000), "+inf"
            ))
            # An enqueue through Dramatiq heartbeats too (an EventSender's broker): each
            # worker process's own line tells it is consuming.
            return bool(beating - before) and (
                managed.latest_output().count(WORKER_READY) >= processes
            )

        return ready

    def _scheduler_ready(self, managed: Managed, started: float, before: Any) -> bool:
        raw = self.redis.get(self.keys.scheduler_heartbeat)
        if raw is None:
            return False
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        last_pass = dt.datetime.fromisoformat(text)
        return last_pass.timestamp() >= started

    # -- stopping ---------------------------------------------------------------------------

    def stop(self, name: str, *, timeout: float | None = None) -> int:
        """SIGTERM to the process (the Dramatiq master, never its group); SIGKILL to the
        group after ``timeout`` seconds. Returns the exit status (negative: a signal)."""
        managed = self._get(name)
        popen = managed.popen
        if popen is None:
            raise HarnessError(f"{name} was never started")
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(timeout=self.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                self._kill_group(managed)
                raise HarnessError(
                    f"{name} did not exit within {timeout or self.stop_timeout:g}s of SIGTERM "
                    f"(killed); its output ends with:\n{managed.tail()}"
                ) from None
        self._kill_group(managed)  # a worker process its master left behind
        return popen.returncode

    def kill(self, name: str) -> None:
        """SIGKILL the process and everything in its group, and wait until they are gone."""
        self._kill_group(self._get(name))

    def _kill_group(self, managed: Managed) -> None:
        popen = managed.popen
        if popen is None:
            return
        pgid = popen.pid  # a session leader: its group id is its pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        popen.wait(timeout=self.stop_timeout)
        wait_until(lambda: not _group_members(pgid), timeout=self.stop_timeout,
                   what=f"every process of {managed.name} to die")
        if managed._log_file is not None:
            managed._log_file.close()
            managed._log_file = None

    def close(self) -> None:
        """Stop every process still running (SIGTERM, then SIGKILL); close the Redis client."""
        errors: list[str] = []
        for name, managed in self.processes.items():
            if managed.running:
                try:
                    self.stop(name)
                except HarnessError as error:
                    errors.append(str(error))
            else:
                self._kill_group(managed)
        self.redis.close()
        if errors:
            raise HarnessError("; ".join(errors))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- reading ----------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Managed:
        return self._get(name)

    def _get(self, name: str) -> Managed:
        try:
            return self.processes[name]
        except KeyError:
            raise HarnessError(f"no process named {name!r}") from None

    def output(self, names: Iterable[str] | None = None) -> str:
        """Everything the named processes (default: all) wrote so far."""
        chosen = self.processes if names is None else names
        return "".join(self._get(name).output() for name in chosen)

    def queue_settled(self, queue: str) -> bool:
        """True when no Dramatiq message of ``queue`` waits, runs, or is delayed (a retry).

        Dramatiq keeps a message's data until it is acked, and enqueues a retry or a due
        delayed message before acking the original: there is no moment in between.
        """
        return not any(
            self.redis.hlen(f"{self.namespace}:{name}.msgs") for name in (queue, f"{queue}.DQ")
        )

    def queue_leftovers(self, queue: str) -> list[str]:
        """Where each Dramatiq message of ``queue`` (and its delay queue) still held in
        ``.msgs`` is, one line per message, to explain a queue that never settles: in the
        queue's list, in a broker's unacknowledged set (with that broker's heartbeat age
        against the heartbeat timeout), in the dead letters, or nowhere. A line names the
        actor, the message id, the options and the send key, never the payload."""
        now_ms = time.time() * 1000
        timeout_ms = self.settings.worker_heartbeat_timeout.total_seconds() * 1000
        scored: list[Any] = self.redis.zrange(
            f"{self.namespace}:__heartbeats__", 0, -1, withscores=True)
        beats = {_text(member): float(score) for member, score in scored}
        lines = [f"heartbeats: {len(beats)} broker(s); "
                 + ", ".join(f"{broker[:8]} {(now_ms - at) / 1000:.1f}s ago"
                             for broker, at in sorted(beats.items(), key=lambda b: -b[1]))]
        dead_letters = f"{self.namespace}:{queue}.XQ"
        for name in (queue, f"{queue}.DQ"):
            listed = {_text(m) for m in self.redis.lrange(f"{self.namespace}:{name}", 0, -1)}
            prefix, suffix = f"{self.namespace}:__acks__.", f".{name}"
            held = {
                _text(key)[len(prefix):-len(suffix)]: {_text(m) for m in self.redis.smembers(key)}
                for key in self.redis.scan_iter(match=f"{prefix}*{suffix}")
            }
            for raw_id, data in self.redis.hgetall(f"{self.namespace}:{name}.msgs").items():
                message_id = _text(raw_id)
                where = ["in the queue's list"] if message_id in listed else []
                for broker, members in held.items():
                    if message_id in members:
                        at = beats.get(broker)
                        age = ("no heartbeat" if at is None else
                               f"heartbeat {(now_ms - at) / 1000:.1f}s ago, "
                               + ("alive" if now_ms - at < timeout_ms else "stale"))
                        where.append(f"unacked by broker {broker} ({age})")
                if self.redis.zscore(dead_letters, message_id) is not None:
                    where.append("dead-lettered")
                lines.append(f"{name} {message_id}: {'; '.join(where) or 'NOWHERE'}; "
                             f"{_message_outline(data)}")
        return lines

    def dead_letters(self, queue: str) -> int:
        return int(self.redis.zcard(f"{self.namespace}:{queue}.XQ"))

    def log_files(self) -> list[Path]:
        return [path for managed in self.processes.values() for path in managed.logs]


def _members(raw: Iterable[object]) -> set[bytes]:
    return {m if isinstance(m, bytes) else str(m).encode() for m in raw}


def _text(raw: object) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _message_outline(data: bytes | str) -> str:
    """A Dramatiq message's actor, id, options (but its last traceback) and send key:
    nothing of its payload."""
    message = json.loads(data)
    args = message.get("args") or [{}]
    payload = args[0].get("args", [{}])[0] if "message_id" in args[0] else args[0]
    try:
        key = PlannedMessage.from_dict(payload).key
    except (KeyError, TypeError, ValueError):
        key = "?"
    options = {k: v for k, v in (message.get("options") or {}).items() if k != "traceback"}
    return (f"actor {message.get('actor_name')}, id {message.get('message_id')}, "
            f"key {key}, options {options}")


def _files_limit(limit: int | None) -> Callable[[], None] | None:
    if limit is None:
        return None

    def apply() -> None:  # runs in the child, between fork and exec
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return apply


def _healthz_answers(managed: Managed, started: float, before: Any) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{managed.port}/healthz", timeout=1) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in process group ``pgid`` (Linux: read from /proc)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ')'.
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state not in ("Z", "X"):
            members.append(int(entry.name))
    return members
