"""The faults: a plan of what goes wrong and when, and the thread that makes it happen.

A run is cut into cycles (:data:`CYCLE` seconds). Each cycle has two blocks:

- the process block: workers and schedulers SIGKILLed at random moments (and restarted
  at once), both workers at once once, Redis crashed (SIGKILL) or shut down without
  saving and started again on the same folder and port with ``config/redis.conf``, the
  SMTP server refusing a few messages with 451 and then slow for a while, and Twilio
  answering 429 for a while;
- the provider block: Twilio answering 503, then holding its answers past the client's
  timeout (having taken the message), then answering 500 (having taken it), a few
  seconds each.

After an ambiguous Twilio failure (a worker killed mid-send, a 5xx, a timeout) the send
step asks Twilio whether it took the message before it sends again, so an SMS or a call
may meet any number of them. An email may not: an SMTP relay cannot be asked, and
``notifier/sending.py`` resends an interrupted email at most once
(``AMBIGUOUS_RETRIES``). The two blocks keep the slow SMTP server and the worker kills of
the process block apart from the Twilio windows, and each window is shorter than the
first retry delay (10 s), so a message meets the windows' faults one at a time and the
bound on ambiguous sends stays readable. ``test_faults.py`` shows separately what a longer
outage does.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from notifier.local_redis import RedisServer
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio, Outcome
from tests.harness import Processes
from tests.sentinel_cluster import SentinelCluster

REDIS_CONF = Path(__file__).parents[2] / "config" / "redis.conf"

CYCLE = 105.0
PROCESS_BLOCK = (3.0, 40.0)
# Ambiguous Twilio windows: (start in the cycle, seconds, name). 17 s apart: a message
# failed at the end of one is retried 10 s later, before the next one opens.
AMBIGUOUS_WINDOWS = ((58.0, 5.0, "twilio 503"), (75.0, 5.0, "twilio timeout, taken"),
                     (92.0, 5.0, "twilio 500, taken"))
TWILIO_HOLD = 4.0  # seconds a held answer waits: past the gateway's Twilio timeout


class DurableRedis:
    """The suite's own redis-server, with the shipped durability configuration, that can
    crash and come back on the same folder and port.

    Parameters:
      workdir: where it keeps its append-only file.
    """

    def __init__(self, workdir: Path) -> None:
        self.server = RedisServer(workdir, extra_args=(str(REDIS_CONF),))

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()

    def crash(self) -> None:
        """SIGKILL: no shutdown save, no final fsync."""
        process = self.server.process
        assert process is not None, "Redis is not running"
        process.kill()
        process.wait(timeout=10)
        self.server.process = None

    def shutdown_nosave(self) -> None:
        """``SHUTDOWN NOSAVE``: stops at once; only what the append-only file holds stays."""
        process = self.server.process
        assert process is not None, "Redis is not running"
        client = redis.Redis.from_url(self.url)
        try:
            client.shutdown(nosave=True)
        except redis.ConnectionError:
            pass  # it went away while answering
        finally:
            client.close()
        process.wait(timeout=10)
        self.server.process = None

    def stop(self) -> None:
        self.server.stop()


@dataclass(frozen=True)
class Fault:
    """One thing that goes wrong.

    Parameters:
      at: seconds after the run's start.
      name: what: ``kill <process>``, ``kill workers``, ``crash redis``,
        ``shutdown redis``, ``kill primary``, ``freeze primary``, ``smtp 451``,
        ``smtp slow``, or a Twilio window.
      seconds: how long it lasts (Redis down, a window open).
      count: how many (messages refused).
    """

    at: float
    name: str
    seconds: float = 0.0
    count: int = 0


def plan_faults(rng: random.Random, *, length: float, until: float) -> list[Fault]:
    """Cycles of faults covering at least ``length`` seconds (one cycle at least), none
    starting after ``until`` seconds (when the last message is due: later faults would
    meet no traffic)."""
    faults: list[Fault] = []
    cycles = max(1, round(length / CYCLE + 0.49))
    first, last = PROCESS_BLOCK
    for cycle in range(cycles):
        c = cycle * CYCLE

        def moment(start: float = first, end: float = last, base: float = c) -> float:
            return base + rng.uniform(start, end)

        for index in range(5):
            faults.append(Fault(moment(), f"kill {'worker' if index % 2 else 'worker-2'}"))
        faults.append(Fault(moment(), "kill workers"))
        for index in range(3):
            faults.append(Fault(moment(), f"kill {'scheduler' if index % 2 else 'scheduler-2'}"))
        redis_way = "crash redis" if cycle % 2 == 0 else "shutdown redis"
        faults.append(Fault(moment(10, 30), redis_way, seconds=rng.uniform(1.0, 3.0)))
        faults.append(Fault(moment(), "smtp 451", count=rng.randint(3, 6)))
        faults.append(Fault(moment(first, 25), "smtp slow", seconds=12.0))
        faults.append(Fault(moment(first, 28), "twilio 429", seconds=10.0))
        for start, seconds, name in AMBIGUOUS_WINDOWS:
            faults.append(Fault(c + start, name, seconds=seconds))
    return sorted((f for f in faults if f.at + f.seconds <= until), key=lambda f: f.at)


@dataclass
class Window:
    """A period a provider misbehaved: ``name``, from ``start`` to ``end`` (epoch)."""

    name: str
    start: float
    end: float = 0.0


@dataclass
class Tally:
    """What the injector did."""

    worker_kills: int = 0
    scheduler_kills: int = 0
    redis_restarts: int = 0
    failovers: int = 0
    smtp_refusals: int = 0
    windows: list[Window] = field(default_factory=list)
    redis_outages: list[Window] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


class Injector(threading.Thread):
    """Runs a fault plan against the processes, Redis and the providers, in its own
    thread, from ``t0`` (epoch seconds). Restarts what it kills; closes every provider
    window it opens. An error stops it and is kept in :attr:`error` (and ``failed`` is
    set so the workload stops too).

    Parameters:
      plan: the faults, by time.
      t0: the run's start.
      processes, durable, cluster, twilio, smtp: what the faults act on (``durable``
        for a Redis restart, ``cluster`` for a failover).
      failed: set when the injector fails.
      worker_threads: threads per worker (for ``Processes.start_worker``).
    """

    def __init__(
        self, plan: list[Fault], *, t0: float, processes: Processes,
        durable: DurableRedis | None = None, cluster: SentinelCluster | None = None,
        twilio: FakeTwilio, smtp: FakeSmtp, failed: threading.Event, worker_threads: int,
    ) -> None:
        super().__init__(name="fault-injector", daemon=True)
        self.plan = plan
        self.t0 = t0
        self.processes = processes
        self.durable = durable
        self.cluster = cluster
        self.twilio = twilio
        self.smtp = smtp
        self.failed = failed
        self.worker_threads = worker_threads
        self.tally = Tally()
        self.error: str | None = None
        self._closing: list[tuple[float, Callable[[], None]]] = []

    def run(self) -> None:
        try:
            for fault in self.plan:
                self._wait_until(self.t0 + fault.at)
                if self.failed.is_set():
                    return
                self._apply(fault)
            self._wait_until(max((at for at, _ in self._closing), default=0.0))
        except BaseException:
            self.error = traceback.format_exc()
            self.failed.set()
        finally:
            self.twilio.reset()
            self.smtp.delay(0)

    def _wait_until(self, at: float) -> None:
        """Wait until ``at``, closing the windows that end before it on time."""
        while True:
            due = sorted(self._closing, key=lambda item: item[0])
            if due and due[0][0] <= at:
                end, close = due[0]
                self._closing.remove(due[0])
                self._sleep_until(end)
                close()
                continue
            self._sleep_until(at)
            return

    def _sleep_until(self, at: float) -> None:
        self.failed.wait(max(0.0, at - time.time()))

    def _note(self, text: str) -> None:
        self.tally.log.append(f"+{time.time() - self.t0:6.1f}s {text}")

    def _apply(self, fault: Fault) -> None:
        name = fault.name
        if name.endswith(" primary"):
            self._fail_over(fault)
        elif name.startswith("kill "):
            self._kill(name.removeprefix("kill "))
        elif name.endswith(" redis"):
            self._restart_redis(fault)
        elif name == "smtp 451":
            self.smtp.refuse_next(fault.count, code=451)
            self.tally.smtp_refusals += fault.count
            self._note(f"SMTP refuses the next {fault.count} messages with 451")
        elif name == "smtp slow":
            self.smtp.delay(1.0)
            self._note(f"SMTP answers DATA after 1 s for {fault.seconds:g}s")
            self._later(fault.seconds, lambda: self.smtp.delay(0), "SMTP fast again")
        else:
            self._twilio_window(fault)

    def _kill(self, which: str) -> None:
        names = ["worker", "worker-2"] if which == "workers" else [which]
        for name in names:
            self.processes.kill(name)
        self._note(f"SIGKILL {' and '.join(names)}")
        for name in names:
            if name.startswith("worker"):
                self.tally.worker_kills += 1
            else:
                self.tally.scheduler_kills += 1
            self.processes.restart(name)  # the same command; its output goes to a new file
        self._note(f"{' and '.join(names)} running again")

    def _restart_redis(self, fault: Fault) -> None:
        assert self.durable is not None, "a Redis restart needs the durable Redis"
        outage = Window(fault.name, time.time())
        self.tally.redis_outages.append(outage)
        if fault.name == "crash redis":
            self.durable.crash()
        else:
            self.durable.shutdown_nosave()
        self._note(f"{fault.name}; down for {fault.seconds:.1f}s")
        self._sleep_until(time.time() + fault.seconds)
        self.durable.start()
        outage.end = time.time()
        self.tally.redis_restarts += 1
        self._note("Redis back (same folder and port, config/redis.conf)")

    def _fail_over(self, fault: Fault) -> None:
        """The primary SIGKILLed (``kill primary``) or frozen with SIGSTOP past the
        sentinels' timeout (``freeze primary``) until a replica is promoted; then the old
        primary is started again or thawed, and Sentinel makes it a replica."""
        cluster = self.cluster
        assert cluster is not None, "a failover needs the Sentinel cluster"
        outage = Window(fault.name, time.time())
        self.tally.redis_outages.append(outage)
        old = cluster.primary_port()
        killed = fault.name == "kill primary"
        node = cluster.kill_primary() if killed else cluster.freeze_primary()
        self._note(f"{fault.name} (port {old})")
        new = cluster.wait_for_failover(old, timeout=60)
        outage.end = time.time()
        self.tally.failovers += 1
        self._note(f"replica on port {new} promoted after {outage.end - outage.start:.1f}s")
        if killed:
            cluster.restart(node)
        else:
            cluster.thaw(node)
        cluster.wait_settled(timeout=60)
        self._note(f"old primary (port {old}) back as a replica, replicas in sync")

    def _twilio_window(self, fault: Fault) -> None:
        outcome = {
            "twilio 429": Outcome.too_many_requests(retry_after=3),
            "twilio 503": Outcome.server_error(503),
            "twilio 500, taken": Outcome.server_error(500, accepted=True),
            "twilio timeout, taken": Outcome.timeout(TWILIO_HOLD, accepted=True),
        }[fault.name]
        window = Window(fault.name, time.time())
        self.tally.windows.append(window)
        self.twilio.fail_all(outcome)
        self._note(f"{fault.name} for {fault.seconds:g}s")

        def close() -> None:
            self.twilio.reset()
            window.end = time.time()

        self._later(fault.seconds, close, f"{fault.name}: over")

    def _later(self, seconds: float, action: Callable[[], None], what: str) -> None:
        def close() -> None:
            action()
            self._note(what)

        self._closing.append((time.time() + seconds, close))
