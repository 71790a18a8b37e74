"""The Sentinel test cluster fails over for real: a killed primary and a frozen one are
replaced by a replica that holds the acknowledged writes, a Sentinel-aware client follows,
and the old primary comes back as a replica."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.sentinel import Sentinel

from tests.harness import HarnessError, wait_until
from tests.sentinel_cluster import HOST, SentinelCluster

pytestmark = pytest.mark.slow

KEY = "sentinel-cluster-test:kept"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[SentinelCluster]:
    with SentinelCluster(tmp_path / "sentinel") as started:
        yield started


def test_a_killed_primary_is_replaced_by_a_replica_holding_its_acknowledged_writes(
    cluster: SentinelCluster,
) -> None:
    old = cluster.primary_port()
    primary = cluster.client_of(old)
    try:
        primary.set(KEY, "acknowledged")
        assert primary.wait(1, 1000) >= 1
    finally:
        primary.close()

    started = time.monotonic()
    killed = cluster.kill_primary()
    new = cluster.wait_for_failover(old, timeout=30)
    print(f"\nfailover after SIGKILL took {time.monotonic() - started:.2f} s")

    assert killed.port == old
    assert new != old and new in cluster.data_nodes
    promoted = cluster.client_of(new)
    try:
        assert promoted.get(KEY) == b"acknowledged"
    finally:
        promoted.close()

    sentinel = Sentinel(list(cluster.sentinels), socket_timeout=2)
    client = sentinel.master_for(cluster.service, socket_timeout=2)
    try:
        assert client.get(KEY) == b"acknowledged"
        assert client.connection_pool.get_master_address() == (HOST, new)
    finally:
        client.close()
        for each in sentinel.sentinels:
            each.close()

    # The killed primary, started again, is made a replica of the new one and catches up.
    cluster.restart(killed)
    assert cluster.wait_settled(timeout=30) == new
    assert cluster.role(old) == "slave"
    back = cluster.client_of(old)
    try:
        assert back.get(KEY) == b"acknowledged"
    finally:
        back.close()


def test_a_frozen_primary_is_replaced_and_demoted_once_it_wakes(
    cluster: SentinelCluster,
) -> None:
    old = cluster.primary_port()

    started = time.monotonic()
    frozen = cluster.freeze_primary()
    new = cluster.wait_for_failover(old, timeout=30)
    print(f"\nfailover after SIGSTOP took {time.monotonic() - started:.2f} s")
    assert new != old

    thawed = time.monotonic()
    cluster.thaw(frozen)
    wait_until(lambda: cluster.role(old) == "slave", timeout=30,
               what=f"the thawed old primary (port {old}) to be demoted to a replica")
    print(f"old primary demoted {time.monotonic() - thawed:.2f} s after SIGCONT")
    assert cluster.wait_settled(timeout=30) == new


def test_a_cluster_that_does_not_come_up_says_where_to_look_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    # Every data node told to replicate from a port nothing listens on: no replica syncs.
    cluster = SentinelCluster(tmp_path / "sentinel", ready_timeout=1.0,
                              data_args=("--replicaof", HOST, "1"))
    with pytest.raises(HarnessError, match=r"replica-1 \(port \d+\).*redis\.log"):
        cluster.start()

    assert all(node.server.process is None for node in cluster.nodes)
    for node in cluster.nodes:
        with pytest.raises(OSError), socket.create_connection((HOST, node.port), timeout=1):
            pass
