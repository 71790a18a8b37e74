"""Benchmark: what waiting for a replica (``WAIT``) costs the intake API and the inbound
SMS webhook, with and without, in the same run.

One run: a private primary redis-server (with config/redis.conf unless --no-conf) and one
replica, then the web app under uvicorn twice on the same pair, first with
``NOTIFIER_REDIS_WAIT_REPLICAS=0`` (acknowledged without waiting), then with ``1`` (each
accepted event and each ARRET or REPRISE waits until the replica holds it). Each web
process is measured against its own ``GET /healthz`` (see :mod:`bench.http_load`): one
client for latency (p50 / p99), --threads clients for throughput.

    PYTHONPATH=. python bench/replication_bench.py              # 2,000 requests per measure
    PYTHONPATH=. python bench/replication_bench.py --requests 5000 --no-conf
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from pathlib import Path

import redis

from bench.http_load import ROOT, compare, web_server
from bench.intake_bench import TOKEN, booking_requests
from bench.webhook_bench import AUTH_TOKEN, PATH, PUBLIC_BASE_URL, webhook_requests
from notifier.local_redis import RedisServer, running_redis

REDIS_CONF = ROOT / "config" / "redis.conf"
OPT_OUTS = ("ARRET", "REPRISE")


def wait_for_replica(primary: redis.Redis) -> None:
    """Until the replica is linked and has acknowledged a first write (a replica that has
    just linked up acknowledges at its next once-a-second report)."""
    deadline = time.monotonic() + 30
    while primary.info("replication").get("connected_slaves", 0) < 1:
        if time.monotonic() > deadline:
            raise SystemExit("the replica did not link up within 30 s")
        time.sleep(0.05)
    primary.incr("bench:linked")
    if primary.wait(1, 5000) < 1:
        raise SystemExit("the replica did not acknowledge a write within 5 s")


def waits(primary: redis.Redis) -> int:
    """How many WAIT commands the primary has run."""
    return int(primary.info("commandstats").get("cmdstat_wait", {}).get("calls", 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per measure")
    parser.add_argument("--threads", type=int, default=8, help="clients for the throughput run")
    parser.add_argument("--no-conf", action="store_true",
                        help="plain redis-servers instead of config/redis.conf (appendfsync)")
    args = parser.parse_args()
    conf = () if args.no_conf else (str(REDIS_CONF),)
    table: list[tuple[str, str, float, float, float]] = []
    with tempfile.TemporaryDirectory() as scratch, \
            running_redis(Path(scratch) / "primary",
                          extra_args=(*conf, "--repl-diskless-sync-delay", "0")) as primary:
        replica = RedisServer(Path(scratch) / "replica", extra_args=(
            *conf, "--replicaof", "127.0.0.1", str(primary.port)))
        replica.start()
        client = redis.Redis.from_url(primary.url)
        try:
            wait_for_replica(client)
            print(f"uvicorn, 1 process, loopback; a primary and one replica "
                  f"({'plain' if args.no_conf else 'config/redis.conf'}); "
                  f"{args.requests:,} requests per measure, {args.threads} client threads")
            for replicas in ("0", "1"):
                print(f"\nNOTIFIER_REDIS_WAIT_REPLICAS={replicas}")
                settings = {
                    "NOTIFIER_REDIS_URL": primary.url, "NOTIFIER_API_TOKEN": TOKEN,
                    "NOTIFIER_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                    "NOTIFIER_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                    "NOTIFIER_OUTBOX_DIR": str(Path(scratch) / "outbox"),
                    "NOTIFIER_REDIS_WAIT_REPLICAS": replicas,
                }
                with web_server(settings) as (base_url, pid):
                    before = waits(client)
                    for name, make, ok in (
                        ("POST /v1/events", booking_requests, 202),
                        (f"POST {PATH} (ARRET, REPRISE)",
                         functools.partial(webhook_requests, texts=OPT_OUTS), 200),
                    ):
                        figures = compare(base_url, (name, make, ok), requests=args.requests,
                                          threads=args.threads, server_pid=pid)[name]
                        table.append((replicas, name, figures["p50_ms"], figures["p99_ms"],
                                      figures["per_s_clients"]))
                    # Each measure is a 200-request warm-up, then two runs of --requests.
                    print(f"WAIT commands per request: "
                          f"{(waits(client) - before) / (2 * (200 + 2 * args.requests)):.2f}")
        finally:
            client.close()
            replica.stop()
    print(f"\n{'WAIT':<5} {'endpoint':<36} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for replicas, name, p50, p99, rate in table:
        print(f"{replicas:<5} {name:<36} {p50:8.2f} {p99:8.2f} {rate:8,.0f}")
    half = len(table) // 2
    for without, with_wait in zip(table[:half], table[half:], strict=True):
        print(f"{with_wait[1]}: with WAIT / without: p50 x{with_wait[2] / without[2]:.2f}, "
              f"p99 x{with_wait[3] / without[3]:.2f}, throughput x{with_wait[4] / without[4]:.2f}")


if __name__ == "__main__":
    main()
