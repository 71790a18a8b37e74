"""Benchmark: a backlog of 1,000,000 scheduled messages.

In one run, against a private redis-server:
  1. baseline: raw Redis round trips (PING) from this process;
  2. Redis memory per scheduled message (sorted sets + pending hashes only);
  3. a worker process's memory with an empty schedule and with the full backlog (it
     should not grow: the backlog lives in Redis, not in workers);
  4. the scheduler's hand-off rate of due entries to Dramatiq's ``send`` queue, and what
     each entry costs: Redis commands (a script's own included), Redis CPU, the
     scheduler's CPU;
  5. lateness of due messages (hand-off time minus due time, p50 / p99) with the
     scheduler's real loop and clock, for entries falling due over a few seconds.

    PYTHONPATH=. python bench/backlog_bench.py
    PYTHONPATH=. python bench/backlog_bench.py --scheduled 200000 --due 20000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import redis

from notifier.domain import Channel, Kind
from notifier.local_redis import running_redis
from notifier.names import SEND_QUEUE
from notifier.planning.entries import PlannedMessage
from notifier.scheduler import Scheduler
from notifier.settings import Settings
from notifier.store.handoff import SendHandoff
from notifier.store.keys import Keys
from notifier.store.schedule import Schedule

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.VOICE)


def fill(schedule: Schedule, client: redis.Redis, count: int, *, first: dt.datetime,
         spread: dt.timedelta, reference_base: int) -> None:
    """``count`` reminders, three channels per appointment, due between ``first`` and
    ``first + spread``, written in pipelined batches."""
    per_batch = 3000
    expire = first + dt.timedelta(days=30)
    for batch_start in range(0, count, per_batch):
        with client.pipeline(transaction=False) as pipe:
            for n in range(batch_start, min(count, batch_start + per_batch), 3):
                reference = f"{reference_base + n // 3:010d}"
                due = first + spread * (n / count)
                start = due + dt.timedelta(days=1)
                messages = [
                    PlannedMessage(reference=reference, kind=Kind.REMINDER, channel=channel,
                                   version=1, send_at=due, deadline=start, start=start,
                                   offset_seconds=86400)
                    for channel in CHANNELS
                ]
                schedule.stage_changes(pipe, reference, upserts=messages, removals=(),
                                       expire_at=expire)
            pipe.execute()


def worker_rss_kib(env: dict[str, str], client: redis.Redis, namespace: str) -> int:
    """Start a real worker (1 process x 8 threads), wait for its heartbeat, read the
    resident memory of the worker process, stop it."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "notifier.worker", "--processes", "1",
         "--threads", "8"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not client.zcard(f"{namespace}:__heartbeats__"):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit("the worker did not start")
            time.sleep(0.1)
        time.sleep(2)  # let it settle into idle consumption before reading its memory
        children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
        total = 0
        for pid in children or [str(worker.pid)]:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        client.delete(f"{namespace}:__heartbeats__")


class LatenessRecorder:
    """Wraps the scheduler's hand-off: hands off for real, then records how late each
    entry of the batch was."""

    def __init__(self, handoff: SendHandoff) -> None:
        self.handoff = handoff
        self.lateness: list[float] = []

    def hand_off(self, payloads: Sequence[str]) -> int:
        handed = self.handoff.hand_off(payloads)
        at = time.time()
        for payload in payloads:
            due = PlannedMessage.from_json(payload).send_at
            self.lateness.append(at - due.timestamp())
        return handed


def redis_costs(client: redis.Redis) -> tuple[int, float]:
    """Commands Redis has run so far (those a script runs included) and its CPU seconds."""
    calls = sum(int(stat["calls"]) for stat in client.info("commandstats").values())
    cpu = client.info("cpu")
    return calls, float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scheduled", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=50_000, help="entries handed off at once")
    parser.add_argument("--lateness", type=int, default=20_000,
                        help="entries falling due over --lateness-seconds")
    parser.add_argument("--lateness-seconds", type=float, default=10.0)
    parser.add_argument("--round-trips", type=int, default=20_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, running_redis(Path(scratch)) as server:
        client = redis.Redis.from_url(server.url)
        settings = Settings(redis_url=server.url, outbox_dir=Path(scratch) / "outbox")
        schedule = Schedule(client, keys=Keys(settings.queue_prefix),
                            lease=settings.scheduler_lease)
        namespace = f"{settings.queue_prefix}-dramatiq"
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")},
               "NOTIFIER_REDIS_URL": server.url, "PYTHONPATH": str(ROOT),
               "NOTIFIER_OUTBOX_DIR": str(Path(scratch) / "outbox")}

        began = time.perf_counter()
        for _ in range(args.round_trips):
            client.ping()
        rtt = args.round_trips / (time.perf_counter() - began)
        print(f"baseline: {rtt:,.0f} Redis round trips/s")

        rss_empty = worker_rss_kib(env, client, namespace)
        now = dt.datetime.now(dt.UTC)
        before = int(client.info("memory")["used_memory"])
        began = time.perf_counter()
        fill(schedule, client, args.scheduled, first=now + dt.timedelta(hours=1),
             spread=dt.timedelta(days=7), reference_base=1_000_000_000)
        seconds = time.perf_counter() - began
        size = schedule.size()
        per_message = (int(client.info("memory")["used_memory"]) - before) / size
        print(f"filled {size:,} scheduled messages in {seconds:.1f} s; "
              f"Redis memory per scheduled message: {per_message:,.0f} bytes")
        rss_full = worker_rss_kib(env, client, namespace)
        print(f"worker process memory (RSS): {rss_empty / 1024:.1f} MiB with an empty "
              f"schedule, {rss_full / 1024:.1f} MiB with {size:,} scheduled "
              f"(x{rss_full / rss_empty:.2f})")

        fill(schedule, client, args.due, first=now - dt.timedelta(minutes=5),
             spread=dt.timedelta(minutes=1), reference_base=5_000_000_000)
        scheduler = Scheduler(client, settings, clock=lambda: dt.datetime.now(dt.UTC))
        calls_before, redis_cpu_before = redis_costs(client)
        cpu_before, began = time.process_time(), time.perf_counter()
        handed = scheduler.run_once()
        rate = handed / (time.perf_counter() - began)
        own_cpu = time.process_time() - cpu_before
        calls_after, redis_cpu_after = redis_costs(client)
        assert client.llen(f"{namespace}:{SEND_QUEUE}") == handed, handed
        print(f"hand-off: {handed:,} due entries in {handed / rate:.2f} s = {rate:,.0f}/s "
              f"({rtt / rate:.2f} round-trip times per entry), with {size:,} not yet due")
        print(f"  per entry: {(calls_after - calls_before) / handed:.2f} Redis commands, "
              f"Redis CPU {(redis_cpu_after - redis_cpu_before) / handed * 1e6:.1f} us, "
              f"scheduler CPU {own_cpu / handed * 1e6:.1f} us")

        recorder = LatenessRecorder(SendHandoff(client, keys=Keys(settings.queue_prefix)))
        start_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
        fill(schedule, client, args.lateness, first=start_at,
             spread=dt.timedelta(seconds=args.lateness_seconds), reference_base=7_000_000_000)
        loop = Scheduler(client, settings, handoff=recorder,
                         clock=lambda: dt.datetime.now(dt.UTC))
        stop = threading.Event()
        thread = threading.Thread(target=loop.run, args=(stop,))
        thread.start()
        deadline = time.monotonic() + args.lateness_seconds + 60
        while len(recorder.lateness) < args.lateness and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        thread.join()
        late = recorder.lateness
        print(f"lateness of {len(late):,} entries due over {args.lateness_seconds:.0f} s "
              f"(poll {settings.scheduler_poll.total_seconds():.0f} s): "
              f"p50 {percentile(late, 0.5) * 1e3:.0f} ms, "
              f"p99 {percentile(late, 0.99) * 1e3:.0f} ms, max {max(late) * 1e3:.0f} ms")
        client.close()


if __name__ == "__main__":
    main()
