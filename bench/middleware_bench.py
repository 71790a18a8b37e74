"""Benchmark: the CPU a no-op actor's message costs a worker with the gateway's middleware
(``broker_middleware``: a time limit and retries) next to Dramatiq's default middleware in
the same run.

One private redis-server; each round enqueues --messages messages for a no-op actor on a
broker built as ``build_broker`` builds it (the default middleware for the baseline), then
runs an in-process Dramatiq worker (--threads) until the queue is empty. The CPU time of
this process while the worker drains the queue is the worker's (consumer and worker
threads; the enqueueing is done before). Rounds alternate the two; the median round of each
is reported with the ratio.

    PYTHONPATH=. python bench/middleware_bench.py             # 5,000 messages, 5 rounds
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import default_middleware

from notifier.actors import broker_middleware, build_broker
from notifier.local_redis import running_redis
from notifier.names import broker_namespace
from notifier.settings import Settings

QUEUE = "noop"


def noop(payload: dict[str, Any]) -> None:
    """Does nothing with a payload shaped like a send's."""


def default_broker(settings: Settings) -> RedisBroker:
    """The gateway's broker as it was: Dramatiq's default middleware."""
    assert settings.redis_url is not None
    return RedisBroker(
        url=settings.redis_url, namespace=broker_namespace(settings.queue_prefix),
        heartbeat_timeout=int(settings.worker_heartbeat_timeout.total_seconds() * 1000),
        maintenance_chance=settings.broker_maintenance_chance,
    )


def measure(broker: RedisBroker, messages: int, threads: int) -> tuple[float, float]:
    """CPU microseconds per message and messages per second."""
    actor = dramatiq.Actor(noop, broker=broker, actor_name="noop", queue_name=QUEUE,
                           priority=0, options={})
    payload = {"reference": "0000000001", "kind": "confirmation", "channel": "sms",
               "version": 1, "send_at": "2026-12-01T14:30:00+00:00"}
    for _ in range(messages):
        actor.send(payload)
    broker.emit_after("process_boot")
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    cpu, wall = time.process_time(), time.perf_counter()
    worker.start()
    try:
        broker.join(QUEUE, timeout=600_000)
        worker.join()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        worker.stop()
        broker.close()
    return cpu / messages * 1e6, messages / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    names = {True: "default middleware", False: "gateway's middleware"}
    results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as scratch, \
            running_redis(Path(scratch) / "redis") as server:
        settings = Settings(redis_url=server.url, queue_prefix="middleware-bench")
        for _ in range(args.rounds):
            for default in (True, False):
                broker = default_broker(settings) if default else build_broker(settings)
                results[default].append(measure(broker, args.messages, args.threads))
    print(f"{args.messages:,} no-op messages, {args.threads} threads, median of "
          f"{args.rounds} rounds")
    print(f"  gateway's middleware: {[type(m).__name__ for m in broker_middleware()]}")
    print(f"  default middleware:   {[m.__name__ for m in default_middleware]}")
    medians = {}
    for default in (True, False):
        cpu = statistics.median(r[0] for r in results[default])
        rate = statistics.median(r[1] for r in results[default])
        medians[default] = cpu
        print(f"{names[default]:>22}: {cpu:7.1f} µs CPU per message, {rate:7,.0f} messages/s")
    print(f"ratio gateway's / default, CPU per message: {medians[False] / medians[True]:.2f}")


if __name__ == "__main__":
    main()
