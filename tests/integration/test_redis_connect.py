"""Every process reaches Redis through one factory: at a URL (``rediss://`` with a CA
bundle for a managed Redis), or at the primary a real Redis Sentinel names, following a
failover without a restart; a sentinel list that can never name a primary stops a
process at start with one line naming the setting."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import trustme

from notifier.actors import build_broker
from notifier.errors import SettingsError
from notifier.local_redis import RedisServer, free_port
from notifier.operations.redis_topology import redis_topology
from notifier.settings import Settings
from notifier.store.connect import connect_redis
from notifier.store.replication import Replication
from tests.sentinel_cluster import SentinelCluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelCluster]:
    with SentinelCluster(tmp_path_factory.mktemp("sentinel")) as running:
        yield running


def through(cluster: SentinelCluster, **overrides: object) -> Settings:
    values: dict[str, object] = {"redis_sentinels": cluster.sentinels_setting,
                                 "redis_sentinel_service": cluster.service}
    return Settings(**{**values, **overrides})  # type: ignore[arg-type]


def test_a_client_through_sentinel_writes_to_the_primary_and_waits_for_a_replica(
    cluster: SentinelCluster,
) -> None:
    settings = through(cluster)
    client = connect_redis(settings, needed_by="test")
    client.set("written", "through sentinel")
    topology = redis_topology(client, settings)
    client.close()

    primary = cluster.client_of(cluster.primary_port())
    assert primary.get("written") == b"through sentinel"
    primary.close()
    assert topology.primary == f"127.0.0.1:{cluster.primary_port()}"
    assert (topology.service, topology.sentinels_answering, topology.sentinels_listed) == (
        "notifier", 3, 3)
    assert (topology.replicas, topology.acknowledged, topology.required) == (2, 2, 1)
    assert Replication.of(client, settings).required() == 1


def test_no_sentinel_answering_stops_the_process_with_one_line_naming_the_setting() -> None:
    nobody = f"127.0.0.1:{free_port()},127.0.0.1:{free_port()}"

    with pytest.raises(SettingsError) as stopped:
        connect_redis(Settings(redis_sentinels=nobody), needed_by="worker")

    line = str(stopped.value)
    assert line.startswith("setting NOTIFIER_REDIS_SENTINELS is wrong: none of 127.0.0.1:")
    assert "\n" not in line and "NOTIFIER_REDIS_SENTINEL_PASSWORD" in line


def test_a_service_the_sentinels_do_not_monitor_stops_the_process_naming_it(
    cluster: SentinelCluster,
) -> None:
    with pytest.raises(SettingsError, match=r"setting NOTIFIER_REDIS_SENTINEL_SERVICE is wrong: "
                                            r"the sentinels at .* do not monitor 'mymaster'"):
        connect_redis(through(cluster, redis_sentinel_service="mymaster"), needed_by="web")


def test_a_process_started_on_a_wrong_sentinel_list_exits_with_that_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env["NOTIFIER_REDIS_SENTINELS"] = f"127.0.0.1:{free_port()}"

    done = subprocess.run([sys.executable, "-m", "notifier", "status"], env=env,
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"notifier: setting NOTIFIER_REDIS_SENTINELS is wrong: none of "
        f"{env['NOTIFIER_REDIS_SENTINELS']} answered as a Redis Sentinel; check the "
        "addresses, NOTIFIER_REDIS_SENTINEL_PASSWORD and NOTIFIER_REDIS_SENTINEL_TLS"]


def test_a_primary_refusing_writes_for_want_of_replicas_is_answered_as_redis_down(
    cluster: SentinelCluster,
) -> None:
    client = connect_redis(through(cluster), needed_by="test")
    primary = cluster.client_of(cluster.primary_port())
    primary.config_set("min-replicas-to-write", 3)  # it has two
    try:
        with pytest.raises(redis.ConnectionError, match="the Redis primary refuses writes: "
                                                        "fewer replicas are connected"):
            client.set("refused", "1")
        assert client.get("refused") is None  # reads still go
    finally:
        primary.config_set("min-replicas-to-write", 0)
        primary.close()
    client.set("refused", "no more")
    client.close()


def test_clients_and_the_broker_follow_a_failover_without_a_restart(
    cluster: SentinelCluster,
) -> None:
    settings = through(cluster)
    client = connect_redis(settings, needed_by="test")
    broker = build_broker(settings)
    client.set("before", "1")
    old = cluster.primary_port()

    cluster.kill_primary()
    new = cluster.wait_for_failover(old, timeout=60)
    # The same clients, no restart: the next commands reach the new primary.
    client.set("after", "1")
    broker.client.lpush("broker-after", "1")

    assert new != old
    primary = cluster.client_of(new)
    assert primary.mget("before", "after") == [b"1", b"1"]
    assert primary.llen("broker-after") == 1
    primary.close()
    client.close()
    broker.close()
    cluster.restart(cluster.node_at(old))
    cluster.wait_settled(timeout=60)


def test_a_command_to_a_frozen_primary_fails_within_its_socket_timeout(
    cluster: SentinelCluster,
) -> None:
    settings = through(cluster, redis_wait_timeout=dt.timedelta(seconds=1))
    client = connect_redis(settings, needed_by="test")
    client.ping()
    node = cluster.freeze_primary()
    began = time.monotonic()
    try:
        with pytest.raises(redis.TimeoutError):
            client.get("anything")
        took = time.monotonic() - began
    finally:
        cluster.thaw(node)
        client.close()
    cluster.wait_settled(timeout=60)

    # The wait timeout (1 s) plus the margin (4 s), and no second try of the same wait.
    assert 4.5 < took < 8.0


def test_a_managed_redis_over_tls_is_reached_with_its_ca_bundle(tmp_path: Path) -> None:
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    cert, key, ca = tmp_path / "server.pem", tmp_path / "server.key", tmp_path / "ca.pem"
    certificate.cert_chain_pems[0].write_to_path(str(cert))
    certificate.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(ca))
    port = free_port()
    server = RedisServer(tmp_path / "tls", extra_args=(
        "--tls-port", str(port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
        "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no"))
    server.start()
    try:
        url = f"rediss://127.0.0.1:{port}/0"
        client = connect_redis(Settings(redis_url=url, redis_ca_file=ca), needed_by="test")
        assert client.ping() is True
        client.close()
        unknown = connect_redis(Settings(redis_url=url), needed_by="test")
        with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
            unknown.ping()
        unknown.close()
    finally:
        server.stop()
