"""Benchmark: the durable schedule at the scale of a province.

In one run, against a private redis-server:
  1. baseline: raw Redis round trips (PING) from this process;
  2. intake of N booked appointments (each with its confirmation and two reminders);
  3. rescheduling M of them, then cancelling M others;
  4. the scheduler handing every due entry to Dramatiq's ``send`` queue (claim, then the
     hand-off script, a batch of 500 at a time);
and Redis memory per scheduled message.

    python bench/schedule_bench.py                # 100,000 appointments, 10,000 changes
    python bench/schedule_bench.py --appointments 20000 --changes 2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis

from notifier.domain import Event
from notifier.local_redis import running_redis
from notifier.names import SEND_QUEUE, broker_namespace
from notifier.scheduler import Scheduler
from notifier.settings import Settings
from notifier.store.intake import Intake
from tests.factories import event, local

NOW = local(2026, 11, 24, 10)


def timed(label: str, count: int, work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    seconds = time.perf_counter() - began
    rate = count / seconds
    print(f"{label:<44} {count:>9,} in {seconds:7.2f} s = {rate:>10,.0f}/s")
    return rate


def reference(number: int) -> str:
    return f"{number:010d}"


def start_of(number: int) -> dt.datetime:
    # Spread appointments over four weeks of clinic hours.
    return local(2026, 12, 1, 8) + dt.timedelta(days=number % 28, minutes=15 * (number % 40))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--round-trips", type=int, default=50_000)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, running_redis(Path(scratch)) as server:
        client = redis.Redis.from_url(server.url)
        settings = Settings(redis_url=server.url, window_sms="always", window_voice="always",
                            outbox_dir=Path(scratch) / "outbox")
        intake = Intake(client, settings)

        def ping() -> None:
            for _ in range(args.round_trips):
                client.ping()

        rtt_rate = timed("baseline: Redis round trips (PING)", args.round_trips, ping)

        booked = [event("booked", start=start_of(n), at=NOW, reference=reference(n),
                        modes=("email",), event_id=f"b-{n}") for n in range(args.appointments)]
        memory_before = int(client.info("memory")["used_memory"])

        def accept_all(events: list[Event]) -> Callable[[], None]:
            def run() -> None:
                for one in events:
                    intake.accept(one, NOW)
            return run

        book_rate = timed("intake: book (confirmation + 2 reminders)", len(booked),
                          accept_all(booked))
        scheduled = intake.schedule.size()
        memory_after = int(client.info("memory")["used_memory"])
        sample = range(0, len(booked), max(1, len(booked) // 1000))
        pending_bytes = sum(int(client.memory_usage(intake.keys.pending(reference(n))) or 0)
                            for n in sample) * len(booked) / len(sample)
        zset_bytes = sum(int(client.memory_usage(key) or 0) for key in intake.keys.schedules)

        moved = [event("modified", version=2, start=start_of(n) + dt.timedelta(hours=1),
                       at=NOW, reference=reference(n), modes=("email",), event_id=f"m-{n}")
                 for n in range(args.changes)]
        cancelled = [event("cancelled", version=2, start=start_of(n), at=NOW,
                           reference=reference(n), modes=("email",), event_id=f"c-{n}")
                     for n in range(args.changes, 2 * args.changes)]
        move_rate = timed("intake: reschedule", len(moved), accept_all(moved))
        cancel_rate = timed("intake: cancel", len(cancelled), accept_all(cancelled))

        later = local(2027, 2, 1)
        scheduler = Scheduler(client, settings, clock=lambda: later)
        due = intake.schedule.size()
        handed = 0

        def hand_off() -> None:
            nonlocal handed
            handed = scheduler.run_once()

        handoff_rate = timed("scheduler: hand-off of due entries", due, hand_off)
        queued = client.llen(f"{broker_namespace(settings.queue_prefix)}:{SEND_QUEUE}")
        assert handed == due == queued, (handed, due, queued)

        per_message = (memory_after - memory_before) / scheduled
        print()
        print(f"scheduled messages after booking: {scheduled:,} "
              f"({scheduled / len(booked):.1f} per appointment)")
        print(f"Redis memory per scheduled message (appointment state, event answer, "
              f"history and schedule included): {per_message:,.0f} bytes")
        print(f"  of which the schedule itself (sorted set + pending hashes): "
              f"{(zset_bytes + pending_bytes) / scheduled:,.0f} bytes")
        print(f"ratios to a raw round trip: book {rtt_rate / book_rate:.1f} RTT/event, "
              f"reschedule {rtt_rate / move_rate:.1f}, cancel {rtt_rate / cancel_rate:.1f}, "
              f"hand-off {rtt_rate / handoff_rate:.2f} RTT/entry")
        client.close()
        if args.json is not None:
            args.json.write_text(json.dumps({
                "round_trips_per_s": rtt_rate, "book_per_s": book_rate,
                "book_rtt_per_event": rtt_rate / book_rate,
                "handoff_per_s": handoff_rate, "handoff_rtt_per_entry": rtt_rate / handoff_rate,
                "bytes_per_message": per_message,
                "schedule_bytes_per_message": (zset_bytes + pending_bytes) / scheduled,
            }, indent=1))


if __name__ == "__main__":
    main()
