"""A private Redis Sentinel deployment for failover tests: one primary, two replicas and
three sentinels, each a ``redis-server`` on a free loopback port in a folder of its own,
and the faults a failover test needs (kill, freeze, thaw, restart).

The data nodes run with the append-only file (``everysec``) as a production node would;
the sentinels are the same binary started with ``--sentinel`` on a ``sentinel.conf``
written into their folder (Sentinel rewrites that file as it learns, so a restarted
sentinel keeps its identity and what it knew).

Typical use::

    with SentinelCluster(tmp_path / "sentinel") as cluster:
        old = cluster.primary_port()
        cluster.kill_primary()
        new = cluster.wait_for_failover(old, timeout=30)

A data node's role changes with each failover, so nodes are found by port
(:attr:`SentinelCluster.data_nodes`); their names ("primary", "replica-1") only say what
they were when the cluster started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import redis

from notifier.local_redis import RedisServer, free_port
from tests.harness import HarnessError, wait_until

HOST = "127.0.0.1"
POLL = 0.05
# A frozen (SIGSTOPped) process still accepts connections through the kernel but never
# answers: every probe has a short timeout so a frozen node reads as "no answer".
PROBE_TIMEOUT = 1.0
STOP_TIMEOUT = 10.0

NodeState = Literal["new", "running", "frozen", "killed", "stopped"]


@dataclass(eq=False)
class Node:
    """One process of a :class:`SentinelCluster`.

    Parameters:
      name: what it was when the cluster started ("primary", "replica-2", "sentinel-1");
        failovers change a data node's role but not its name or port.
      server: its redis-server (port, folder, process).
      is_sentinel: a sentinel rather than a data node.
      state: "new" (never started), "running", "frozen" (SIGSTOP), "killed" (SIGKILL),
        "stopped".
    """

    name: str
    server: RedisServer
    is_sentinel: bool
    state: NodeState = "new"

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def folder(self) -> Path:
        return self.server.workdir

    @property
    def log(self) -> Path:
        return self.server.workdir / "redis.log"

    def __str__(self) -> str:
        return f"{self.name} (port {self.port})"


class SentinelCluster:
    """One primary, two replicas and three sentinels monitoring them, on loopback.

    :meth:`start` (or entering the ``with`` block) starts them and returns once the
    replicas are in sync and every sentinel knows the primary, both replicas and the two
    other sentinels; :meth:`stop` (or leaving the block) stops every process, frozen ones
    included.

    Parameters:
      workdir: a folder per node is made in it (``primary``, ``replica-1``, ``sentinel-1``...),
        holding its log (``redis.log``), its append-only file or its ``sentinel.conf``.
      service: the name the sentinels monitor the primary under.
      down_after_ms: Sentinel's ``down-after-milliseconds``: how long a node may be silent
        before a sentinel thinks it down. Keep it above 1000: after a failover a sentinel
        starts timing the new primary's silence at once but may reconnect to it only up
        to a second later (it retries a link at most once a second and was retrying the
        dead one), so at 1000 it sometimes finds the new primary "down", the others
        agree, and a second failover follows the first (1 run in 20 here).
      failover_timeout_ms: Sentinel's ``failover-timeout``; short, so a failed attempt is
        retried soon.
      ready_timeout: seconds :meth:`start` may wait for the replicas and the sentinels.
      data_args: more ``redis-server`` options for the data nodes, after the cluster's own
        (so they override them).
    """

    def __init__(
        self, workdir: Path, *, service: str = "notifier", down_after_ms: int = 2000,
        failover_timeout_ms: int = 3000, ready_timeout: float = 30.0,
        data_args: tuple[str, ...] = (),
    ) -> None:
        self.workdir = workdir
        self._service = service
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.ready_timeout = ready_timeout
        ports = _distinct_free_ports(6)
        first_primary = ports[0]
        common = (
            "--appendonly", "yes", "--appendfsync", "everysec",
            # Redis waits this long for more replicas before a full sync from a socket;
            # a test wants each sync (a start, a restarted node) at once.
            "--repl-diskless-sync-delay", "0",
        )
        def data_node(name: str, port: int, *replicaof: str) -> Node:
            server = RedisServer(workdir / name, port=port,
                                 extra_args=(*common, *replicaof, *data_args))
            return Node(name, server, is_sentinel=False)

        def sentinel_node(name: str, port: int) -> Node:
            conf = (workdir / name / "sentinel.conf").absolute()
            server = RedisServer(workdir / name, port=port,
                                 extra_args=(str(conf), "--sentinel"))
            return Node(name, server, is_sentinel=True)

        data = [data_node("primary", first_primary)] + [
            data_node(f"replica-{index}", port, "--replicaof", HOST, str(first_primary))
            for index, port in enumerate(ports[1:3], start=1)
        ]
        self.data_nodes: dict[int, Node] = {node.port: node for node in data}
        """The data nodes by port (their roles change; their ports do not)."""
        self.sentinel_nodes: tuple[Node, ...] = tuple(
            sentinel_node(f"sentinel-{index}", port)
            for index, port in enumerate(ports[3:], start=1)
        )
        self._first_primary = first_primary
        self._started = False

    # --- what clients are given --------------------------------------------------------

    @property
    def service(self) -> str:
        return self._service

    @property
    def sentinels(self) -> tuple[tuple[str, int], ...]:
        """The sentinels' addresses, as ``redis.sentinel.Sentinel`` takes them."""
        return tuple((HOST, node.port) for node in self.sentinel_nodes)

    @property
    def sentinels_setting(self) -> str:
        """The sentinels as ``NOTIFIER_REDIS_SENTINELS`` lists them: ``host:port,...``."""
        return ",".join(f"{host}:{port}" for host, port in self.sentinels)

    @property
    def nodes(self) -> tuple[Node, ...]:
        return (*self.data_nodes.values(), *self.sentinel_nodes)

    def client_of(self, port: int) -> redis.Redis:
        """A client of the node on ``port`` (bytes replies); the caller closes it."""
        return redis.Redis(host=HOST, port=port, socket_timeout=5, socket_connect_timeout=5)

    # --- starting and stopping -----------------------------------------------------------

    def start(self) -> None:
        """Start every node and wait until the replicas are in sync and each sentinel knows
        the primary, its two replicas and the two other sentinels. On any failure, stop
        what was started and raise."""
        if self._started:
            raise RuntimeError("the cluster was already started")
        self._started = True
        try:
            for node in self.data_nodes.values():
                self._start_node(node)
            # The replicas first: a sentinel learns of them from the primary's INFO, which
            # it reads every 10 s once it has started.
            wait_until(self._replicas_in_sync, timeout=self.ready_timeout,
                       what="both replicas to be in sync with the primary",
                       hint=lambda: self._describe(self.data_nodes.values()))
            for node in self.sentinel_nodes:
                node.folder.mkdir(parents=True, exist_ok=True)
                (node.folder / "sentinel.conf").write_text(self._sentinel_conf())
                self._start_node(node)
            wait_until(self._sentinels_ready, timeout=self.ready_timeout,
                       what=f"every sentinel to know {self._service}'s primary, its 2 "
                            "replicas and the 2 other sentinels",
                       hint=lambda: self._describe(self.sentinel_nodes))
        except BaseException:
            with contextlib.suppress(Exception):
                self.stop()
            raise

    def _sentinel_conf(self) -> str:
        name = self._service
        return (
            "sentinel resolve-hostnames no\n"
            f"sentinel monitor {name} {HOST} {self._first_primary} 2\n"
            f"sentinel down-after-milliseconds {name} {self.down_after_ms}\n"
            f"sentinel failover-timeout {name} {self.failover_timeout_ms}\n"
            f"sentinel parallel-syncs {name} 1\n"
        )

    def _start_node(self, node: Node) -> None:
        try:
            node.server.start()
        except RuntimeError as error:
            raise HarnessError(f"{node} did not start; see {node.log}") from error
        node.state = "running"

    def stop(self) -> None:
        """Stop every process still there: SIGCONT to the frozen ones, SIGTERM to all (again
        each second), then SIGKILL (to the process group) to any still running after
        :data:`STOP_TIMEOUT` seconds, which is then reported."""
        nodes = [node for node in (*self.sentinel_nodes, *self.data_nodes.values())
                 if node.server.process is not None]
        for node in nodes:
            if node.state == "frozen":
                self._signal(node, signal.SIGCONT)
        pending = list(nodes)
        deadline = time.monotonic() + STOP_TIMEOUT
        last_term = -1.0
        while pending and time.monotonic() < deadline:
            if time.monotonic() - last_term >= 1.0:
                # Redis 7 refuses a SIGTERM while it writes its first append-only file
                # (a replica just after a full sync: "Writing initial AOF, can't exit")
                # and does not take it up later; asked again, it stops.
                for node in pending:
                    self._signal_process(node, signal.SIGTERM)
                last_term = time.monotonic()
            time.sleep(POLL)
            pending = [node for node in pending if node.server.process is not None
                       and node.server.process.poll() is None]
        errors: list[str] = []
        for node in pending:
            errors.append(f"{node} did not stop on SIGTERM in {STOP_TIMEOUT:g}s; "
                          f"killed; see {node.log}")
            self._signal(node, signal.SIGKILL)
        for node in nodes:
            process = node.server.process
            assert process is not None
            process.wait(timeout=STOP_TIMEOUT)
            node.server.process = None
            node.state = "stopped"
        if errors:
            raise HarnessError("; ".join(errors))

    def __enter__(self) -> Self:
        if not self._started:
            self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    # --- asking the nodes ----------------------------------------------------------------

    def primary_port(self) -> int:
        """The primary's port, as the first sentinel that answers names it (during a
        failover the sentinels may disagree for a moment)."""
        for node in self._running(self.sentinel_nodes):
            port = self._master_addr(node)
            if port is not None:
                return port
        raise HarnessError(f"no sentinel names a primary for {self._service}: "
                           + self._describe(self.sentinel_nodes))

    def role(self, port: int) -> str | None:
        """``master`` or ``slave`` as the node on ``port`` answers ``ROLE``; None when it
        does not answer."""
        reply = self._ask(port, "ROLE")
        return str(reply[0]) if reply else None

    def node_at(self, port: int) -> Node:
        try:
            return self.data_nodes[port]
        except KeyError:
            raise HarnessError(f"no data node of this cluster on port {port}") from None

    # --- faults --------------------------------------------------------------------------

    def kill(self, node: Node) -> None:
        """SIGKILL the node's process group (a fork saving a snapshot dies with it)."""
        process = self._process(node)
        self._signal(node, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)
        node.server.process = None
        node.state = "killed"

    def kill_primary(self) -> Node:
        """SIGKILL the current primary; return it (for :meth:`restart`)."""
        node = self.node_at(self.primary_port())
        self.kill(node)
        return node

    def freeze(self, node: Node) -> None:
        """SIGSTOP the node's process group: it keeps its sockets but answers nothing."""
        self._process(node)
        self._signal(node, signal.SIGSTOP)
        node.state = "frozen"

    def freeze_primary(self) -> Node:
        """SIGSTOP the current primary; return it (for :meth:`thaw`)."""
        node = self.node_at(self.primary_port())
        self.freeze(node)
        return node

    def thaw(self, node: Node) -> None:
        """SIGCONT a frozen node. A thawed old primary still thinks itself the primary
        until the sentinels turn it into a replica (some seconds later)."""
        if node.state != "frozen":
            raise HarnessError(f"{node} is not frozen (it is {node.state})")
        self._signal(node, signal.SIGCONT)
        node.state = "running"

    def restart(self, node: Node) -> None:
        """Start a killed node again on its own port, folder and options. An old primary
        comes back as a primary of its own until the sentinels make it a replica of the
        current one; a sentinel comes back with the configuration it had rewritten."""
        if node.state not in ("killed", "stopped"):
            raise HarnessError(f"{node} is {node.state}; only a killed node restarts")
        self._start_node(node)

    # --- waiting -------------------------------------------------------------------------

    def wait_for_failover(self, old_port: int, timeout: float = 30.0) -> int:
        """Wait until every running sentinel names the same primary, not ``old_port``,
        and that node answers ``ROLE`` as master; return its port."""

        def promoted() -> int | None:
            named = {self._master_addr(node) for node in self._running(self.sentinel_nodes)}
            if len(named) != 1:
                return None
            port = named.pop()
            if port is None or port == old_port or self.role(port) != "master":
                return None
            return port

        port: int = wait_until(
            promoted, timeout=timeout, poll=POLL,
            what=f"the sentinels to promote a replica in place of port {old_port}",
            hint=lambda: self._describe(self.nodes))
        self.node_at(port)  # a port the cluster does not know is a bug worth hearing of
        return port

    def wait_settled(self, timeout: float = 30.0) -> int:
        """Wait until every running sentinel names the same primary, it answers as master,
        and every other running data node is its replica, connected and ``online``;
        return the primary's port."""

        def settled() -> int | None:
            named = {self._master_addr(node) for node in self._running(self.sentinel_nodes)}
            if len(named) != 1:
                return None
            port = named.pop()
            if port is None or self.role(port) != "master":
                return None
            expected = {node.port for node in self._running(self.data_nodes.values())}
            expected.discard(port)
            info = self._info_replication(port)
            if info is None or info.get("connected_slaves") != len(expected):
                return None
            online = {
                int(value["port"]) for key, value in info.items()
                if key.startswith("slave") and isinstance(value, dict)
                and value.get("state") == "online"
            }
            return port if online == expected else None

        settled_port: int = wait_until(
            settled, timeout=timeout, poll=POLL,
            what="the primary to have every running data node as an online replica",
            hint=lambda: self._describe(self.nodes))
        return settled_port

    # --- inside --------------------------------------------------------------------------

    def _replicas_in_sync(self) -> bool:
        for node in self.data_nodes.values():
            if node.port == self._first_primary:
                continue
            info = self._info_replication(node.port)
            if info is None or info.get("master_link_status") != "up":
                return False
        return True

    def _sentinels_ready(self) -> bool:
        for node in self.sentinel_nodes:
            state = self._sentinel_master(node)
            if (state is None or state.get("num-slaves") != "2"
                    or state.get("num-other-sentinels") != "2"):
                return False
        return True

    def _running(self, nodes: Iterable[Node]) -> list[Node]:
        return [node for node in nodes if node.state == "running"]

    def _master_addr(self, sentinel: Node) -> int | None:
        reply = self._ask(sentinel.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self._service)
        return int(reply[1]) if reply else None

    def _sentinel_master(self, sentinel: Node) -> dict[str, str] | None:
        reply = self._ask(sentinel.port, "SENTINEL", "MASTER", self._service)
        if not reply:
            return None
        if isinstance(reply, dict):  # redis-py pairs the fields up itself
            return {str(key): str(value) for key, value in reply.items()}
        return dict(zip(reply[::2], reply[1::2], strict=True))

    def _info_replication(self, port: int) -> dict[str, Any] | None:
        reply = self._ask(port, "INFO", "replication")
        return reply if isinstance(reply, dict) else None

    def _ask(self, port: int, *command: str) -> Any:
        """The node's reply (strings), or None when it does not answer in time."""
        client = redis.Redis(host=HOST, port=port, decode_responses=True,
                             socket_timeout=PROBE_TIMEOUT,
                             socket_connect_timeout=PROBE_TIMEOUT)
        try:
            return client.execute_command(*command)
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            return None
        finally:
            client.close()

    def _describe(self, nodes: Iterable[Node]) -> str:
        """What each node says now, and where its log is."""
        parts = []
        for node in nodes:
            if node.state != "running":
                seen: str = node.state
            elif node.is_sentinel:
                state = self._sentinel_master(node)
                seen = ("no answer" if state is None else
                        f"names port {state.get('port')}, flags {state.get('flags')}, "
                        f"{state.get('num-slaves')} replicas, "
                        f"{state.get('num-other-sentinels')} other sentinels")
            else:
                info = self._info_replication(node.port)
                seen = "no answer" if info is None else (
                    f"role {info.get('role')}, link {info.get('master_link_status', '-')}, "
                    f"{info.get('connected_slaves', '-')} replicas")
            parts.append(f"{node}: {seen}; log {node.log}")
        return " | ".join(parts)

    def _process(self, node: Node) -> subprocess.Popen[bytes]:
        process = node.server.process
        if process is None or process.poll() is not None:
            raise HarnessError(f"{node} is not running (it is {node.state}); see {node.log}")
        return process

    def _signal_process(self, node: Node, signum: signal.Signals) -> None:
        """To the process alone: a Redis that stops ends the forks it made itself."""
        process = node.server.process
        if process is not None and process.poll() is None:
            process.send_signal(signum)

    def _signal(self, node: Node, signum: signal.Signals) -> None:
        process = node.server.process
        if process is None:
            return
        # Its own session (RedisServer): the group id is its pid, and the group holds the
        # forks it makes to save or to feed a replica. Signalled before the process is
        # reaped, so the id cannot belong to anything else yet.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)


def _distinct_free_ports(count: int) -> list[int]:
    """``count`` free loopback ports, no two alike (the OS may hand the same free port to
    two successive asks once the first socket is closed)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports
