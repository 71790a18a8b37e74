"""Benchmark: SMS deliveries per second through one and two worker processes, each next
to a no-op actor.

In one run, on one private redis-server (with config/redis.conf unless --no-conf), for each
number of worker processes asked (--processes, default 1 then 2):
  - the gateway: ``dramatiq notifier.worker`` (that many processes x --threads) sending SMS
    through the real send step and the real twilio client to a Twilio-compatible server
    on loopback (``tests.fakes.FakeTwilio``, in a process of its own:
    ``bench/twilio_process.py``);
  - the baseline: ``dramatiq bench.noop_worker`` (same processes and threads, same broker
    settings), whose actor does nothing with the same payloads.
Each round books --messages appointments (SMS only, each a confirmation due now), claims
their due messages as the scheduler would, starts a worker, then enqueues every payload
(the scheduler's hand-off) and times until the queue holds nothing waiting, running or
delayed. Rounds alternate baseline and gateway; the median round is reported with the
ratio, the Redis commands per message (``INFO commandstats`` calls, commands run inside
Lua scripts included, minus the benchmark's own polling) and the CPU time per message of
each process (the worker's, redis-server's, the fake Twilio's, the benchmark's own);
a last table puts the process counts side by side.

With --life N, a last untimed sample follows N SMS through their whole life on the same
Redis: booking (``Intake.accept`` in this process), the scheduler's hand-off (``notifier
scheduler``, a process of its own), the send (the gateway's worker with its round trips
counted from inside, ``bench/round_trip_worker.py``: the gateway's own apart from
Dramatiq's). It reports the Redis commands (``INFO commandstats``, a script's own
included, every process's) and Redis CPU of each stage per message, the worker's client
round trips per send, and the server's own rate on a plain command mix
(``redis-benchmark``), hence the messages per second one Redis primary could carry.
--json writes the figures to a file as well.

    PYTHONPATH=. python bench/delivery_bench.py                 # 3,000 messages, 3 rounds
    PYTHONPATH=. python bench/delivery_bench.py --processes 2 --messages 5000 --no-conf
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dramatiq
import redis

from bench import round_trips
from bench.twilio_process import FakeTwilioProcess
from notifier.actors import build_broker
from notifier.local_redis import running_redis
from notifier.names import SEND_ACTOR, SEND_QUEUE
from notifier.store.intake import Intake
from tests.factories import ZONE, event
from tests.harness import GatewayConfig, Processes

ROOT = Path(__file__).resolve().parents[1]
REDIS_CONF = ROOT / "config" / "redis.conf"
AIM = 0.60  # the target: the gateway sends at least 60 % of the no-op actor's rate
POLL = 0.02
# The baseline's actor, declared by bench/noop_worker.py (not imported here: importing it
# builds a broker from the environment).
NOOP_QUEUE = NOOP_ACTOR = "noop"


@dataclass(frozen=True)
class Measure:
    """One timed batch through one worker.

    Parameters:
      name: what ran.
      messages: how many were enqueued (and done).
      seconds: from the first enqueue until nothing was left.
      commands: Redis command calls by name, during the batch.
      cpu: CPU seconds used during the batch by the worker (master and worker process),
        redis-server, the fake Twilio's process, and this one (enqueueing, polling).
    """

    name: str
    messages: int
    seconds: float
    commands: Counter[str]
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def per_message(self) -> float:
        return sum(self.commands.values()) / self.messages


def command_calls(client: redis.Redis) -> Counter[str]:
    stats: dict[str, dict[str, Any]] = client.info("commandstats")
    return Counter({
        name.removeprefix("cmdstat_"): int(values["calls"])
        for name, values in stats.items() if name != "cmdstat_info"
    })


def cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) used so far by the live processes of group ``pgid``."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:  # fields from state: state ppid pgrp ... utime stime
                total += int(fields[11]) + int(fields[12])
    return total / ticks


def booked_payloads(intake: Intake, count: int, first: int) -> list[dict[str, Any]]:
    """Book ``count`` appointments (SMS only) and claim their due confirmations, as the
    scheduler would; returns the ``send_message`` payloads."""
    now = dt.datetime.now(dt.UTC)
    start = (now + dt.timedelta(days=5)).astimezone(ZONE).replace(hour=10, minute=0,
                                                                  second=0, microsecond=0)
    for number in range(first, first + count):
        booked = event("booked", start=start, at=now, reference=f"{number:010d}",
                       modes=("sms",), event_id=f"bench-{number}")
        intake.accept(booked, now)
    claimed = intake.schedule.claim(now, limit=count)
    intake.schedule.ack(claimed)
    if len(claimed) != count:
        raise SystemExit(f"expected {count} due confirmations, claimed {len(claimed)}")
    return [json.loads(payload) for payload in claimed]


def measure(
    name: str, processes: Processes, client: redis.Redis, broker: dramatiq.Broker, *,
    redis_pid: int, twilio_pid: int, module: str, queue: str, actor: str,
    payloads: list[dict[str, Any]], workers: int, threads: int,
    check: Callable[[], None] = lambda: None, profile: Path | None = None,
) -> Measure:
    worker = processes.start_worker(name, module=module, processes=workers, threads=threads)
    spy = None
    if profile is not None:  # py-spy samples the master and its worker process
        spy = subprocess.Popen(
            ["py-spy", "record", "--subprocesses", "--gil", "--format", "raw", "--rate", "200",
             "-o", str(profile), "--pid", str(worker.pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        time.sleep(1)  # py-spy attaches (a benchmark, not a test: no condition to wait on)
    try:
        polls = 0
        before = command_calls(client)
        cpu_before = _cpu(worker.pid, redis_pid, twilio_pid)
        started = time.perf_counter()
        for payload in payloads:
            broker.enqueue(dramatiq.Message(queue_name=queue, actor_name=actor, args=(payload,),
                                            kwargs={}, options={}))
        while not processes.queue_settled(queue):  # two HLEN per poll
            polls += 1
            time.sleep(POLL)
        seconds = time.perf_counter() - started
        cpu = {part: used - cpu_before[part]
               for part, used in _cpu(worker.pid, redis_pid, twilio_pid).items()}
        commands = command_calls(client) - before
        commands["hlen"] -= 2 * (polls + 1)
        commands += Counter()  # drop zero counts
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        processes.stop(name)
    check()
    return Measure(name, len(payloads), seconds, commands, cpu)


def _cpu(worker_pgid: int, redis_pid: int, twilio_pid: int) -> dict[str, float]:
    mine = os.times()
    return {"worker": cpu_seconds(worker_pgid), "redis-server": cpu_seconds(redis_pid),
            "FakeTwilio": cpu_seconds(twilio_pid), "bench": mine.user + mine.system}


Rounds = list[tuple[Measure, Measure]]  # (no-op, gateway), one pair per round


def medians(rounds: Rounds) -> tuple[Measure, Measure]:
    """The median round's no-op and gateway measures (each by its own rate)."""
    def median(pick: Callable[[tuple[Measure, Measure]], Measure]) -> Measure:
        ordered = sorted((pick(pair) for pair in rounds), key=lambda m: m.rate)
        return ordered[len(ordered) // 2]

    return median(lambda p: p[0]), median(lambda p: p[1])


def report(rounds: Rounds, *, workers: int, threads: int) -> float:
    noop, gateway = medians(rounds)
    ratio = gateway.rate / noop.rate
    print(f"\n{_processes(workers)} x {threads} threads, {noop.messages:,} messages per "
          f"measure, median of {len(rounds)} round(s)")
    print(f"{'':24}{'msg/s':>10}{'Redis cmds/msg':>16}   rounds (msg/s)")
    for measured, pick in ((noop, lambda p: p[0]), (gateway, lambda p: p[1])):
        each = ", ".join(f"{pick(pair).rate:,.0f}" for pair in rounds)
        print(f"{measured.name:24}{measured.rate:>10,.0f}{measured.per_message:>16.1f}   {each}")
    verdict = "meets" if ratio >= AIM else "BELOW"
    print(f"ratio gateway / no-op: {ratio:.0%} ({verdict} the aim of {AIM:.0%})")
    for measured in (noop, gateway):
        cpu = ", ".join(f"{part} {used / measured.messages * 1000:.2f}"
                        for part, used in measured.cpu.items())
        print(f"  {measured.name}: CPU ms per message: {cpu}")
        top = ", ".join(f"{name} {calls / measured.messages:.1f}"
                        for name, calls in measured.commands.most_common(12))
        print(f"  {measured.name}: Redis calls per message: {top}")
    return ratio


def _processes(workers: int) -> str:
    return f"{workers} worker process{'es' if workers > 1 else ''}"


def compare(results: dict[int, Rounds], *, threads: int) -> None:
    """One line per number of worker processes (median rounds), then how they scale."""
    print(f"\nside by side ({threads} threads per process; CPU ms per message: worker "
          "processes / redis-server / FakeTwilio / benchmark):")
    print(f"{'processes':>9}{'no-op msg/s':>13}{'gateway msg/s':>15}{'ratio':>7}"
          f"{'cmds/msg':>10}   {'no-op CPU ms/msg':<20}{'gateway CPU ms/msg':<20}")
    for workers, rounds in results.items():
        noop, gateway = medians(rounds)
        cpu = ["/".join(f"{used / m.messages * 1000:.2f}" for used in m.cpu.values())
               for m in (noop, gateway)]
        print(f"{workers:>9}{noop.rate:>13,.0f}{gateway.rate:>15,.0f}"
              f"{gateway.rate / noop.rate:>7.0%}{gateway.per_message:>10.1f}   "
              f"{cpu[0]:<20}{cpu[1]:<20}")
    if len(results) > 1:
        counts = sorted(results)
        low, high = (medians(results[counts[0]]), medians(results[counts[-1]]))
        print(f"{counts[-1]} processes / {counts[0]}: no-op x{high[0].rate / low[0].rate:.2f}, "
              f"gateway x{high[1].rate / low[1].rate:.2f} (on {os.cpu_count()} CPU(s) shared "
              "with redis-server and the benchmark)")


def redis_cpu(client: redis.Redis) -> float:
    cpu: dict[str, Any] = client.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


@dataclass(frozen=True)
class Stage:
    """What one stage of a message's life cost Redis, in total.

    Parameters:
      commands: command calls (a script's own included), every process's.
      cpu: redis-server's CPU seconds.
    """

    commands: int
    cpu: float


def staged(client: redis.Redis, work: Callable[[], int]) -> Stage:
    """Run ``work`` (it returns how many commands of its own this process sent, to leave
    out) and return what Redis did meanwhile."""
    calls, cpu = sum(command_calls(client).values()), redis_cpu(client)
    own = work()
    return Stage(sum(command_calls(client).values()) - calls - own, redis_cpu(client) - cpu)


def life(
    processes: Processes, client: redis.Redis, intake: Intake, fake: FakeTwilioProcess, *,
    count: int, first: int, threads: int, folder: Path,
) -> dict[str, Any]:
    """Follow ``count`` SMS through their life: booking, hand-off, send. Returns per
    message the Redis commands and CPU of each stage and the worker's round trips."""
    now = dt.datetime.now(dt.UTC)
    start = (now + dt.timedelta(days=5)).astimezone(ZONE).replace(hour=10, minute=0,
                                                                  second=0, microsecond=0)
    scheduled_before = intake.schedule.size()
    messages = f"{processes.namespace}:{SEND_QUEUE}.msgs"

    def book() -> int:
        for number in range(first, first + count):
            intake.accept(event("booked", start=start, at=now, reference=f"{number:010d}",
                                modes=("sms",), event_id=f"life-{number}"), now)
        return 0

    def hand_off() -> int:
        processes.start_scheduler("life scheduler")
        polls, deadline = 1, time.monotonic() + 120
        while client.hlen(messages) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"the scheduler did not hand off {count} messages in 120 s")
            polls += 1
            time.sleep(POLL)
        processes.stop("life scheduler")
        return polls

    sent: dict[str, Counter[str]] = {}
    taken = fake.messages_taken()

    def send() -> int:
        os.environ[round_trips.ENVIRONMENT] = str(folder)
        try:
            processes.start_worker("life worker", module="bench.round_trip_worker",
                                   processes=1, threads=threads)
        finally:
            del os.environ[round_trips.ENVIRONMENT]
        polls = 0
        while not processes.queue_settled(SEND_QUEUE):  # two HLEN per poll
            polls += 1
            time.sleep(POLL)
        sent.update(round_trips.read(folder))
        processes.stop("life worker")
        return 2 * (polls + 1)

    booking = staged(client, book)
    scheduled = intake.schedule.size() - scheduled_before
    handing = staged(client, hand_off)
    sending = staged(client, send)
    if (got := fake.messages_taken() - taken) != count:
        raise SystemExit(f"FakeTwilio took {got} SMS in the life sample, expected {count}")
    # A booking schedules the confirmation and its reminders: each message carries its share.
    intake_share = booking.commands / scheduled
    commands = intake_share + (handing.commands + sending.commands) / count
    cpu = booking.cpu / scheduled + (handing.cpu + sending.cpu) / count
    return {
        "messages": count,
        "scheduled_per_booking": scheduled / count,
        "commands_per_message": commands,
        "commands": {"intake per scheduled message": intake_share,
                     "hand-off per message": handing.commands / count,
                     "send per message": sending.commands / count},
        "redis_cpu_us_per_message": cpu * 1e6,
        "round_trips_per_send": {whose: n / count for whose, n in sent["round_trips"].items()},
        "write_round_trips_per_send": {whose: n / count for whose, n in sent["writes"].items()},
        "round_trip_shapes_per_send": {shape: n / count
                                       for shape, n in sent["shapes"].most_common(12)},
    }


def server_rate(url: str) -> float | None:
    """The redis-server's own commands per second on a plain mix (``redis-benchmark``,
    8 clients, 16 commands a round trip), or None without redis-benchmark."""
    if shutil.which("redis-benchmark") is None:
        return None
    host, port = url.removeprefix("redis://").split("/")[0].split(":")
    requests = 20_000
    output = subprocess.run(
        ["redis-benchmark", "-h", host, "-p", port, "-n", str(requests), "-c", "8", "-P", "16",
         "--csv", "-t", "set,get,incr,lpush,rpop,hset,zadd,sadd"],
        check=True, capture_output=True, text=True,
    ).stdout
    rates = [float(line.split(",")[1].strip('"')) for line in output.splitlines()[1:] if line]
    # The mix's rate: all its commands over the time they took together.
    return len(rates) / sum(1 / rate for rate in rates)


def figures(rounds: Rounds) -> dict[str, float]:
    """The median round's figures, for --json."""
    noop, gateway = medians(rounds)
    return {
        "sms_per_s": gateway.rate, "noop_per_s": noop.rate, "ratio": gateway.rate / noop.rate,
        "worker_cpu_ms_per_sms": gateway.cpu["worker"] / gateway.messages * 1000,
        "worker_cpu_ms_per_noop": noop.cpu["worker"] / noop.messages * 1000,
        "commands_per_sms": gateway.per_message, "commands_per_noop": noop.per_message,
    }


def report_life(lived: dict[str, Any]) -> None:
    count = lived["messages"]
    print(f"\na message's life, {count:,} SMS (booking {lived['scheduled_per_booking']:.1f} "
          "scheduled messages each, hand-off by the scheduler process, send):")
    for stage, commands in lived["commands"].items():
        print(f"  Redis commands, {stage}: {commands:.2f}")
    print(f"  Redis commands per message, all processes: {lived['commands_per_message']:.1f}; "
          f"Redis CPU {lived['redis_cpu_us_per_message']:.0f} us per message")
    trips = ", ".join(f"{whose} {n:.2f}" for whose, n in lived["round_trips_per_send"].items())
    writes = ", ".join(f"{whose} {n:.2f}"
                       for whose, n in lived["write_round_trips_per_send"].items())
    print(f"  worker's client round trips per send: {trips} (writes: {writes})")
    for shape, n in lived["round_trip_shapes_per_send"].items():
        print(f"    {n:5.2f}  {shape}")
    if (rate := lived["redis_ops_per_s"]) is not None:
        print(f"  redis-server on a plain mix (redis-benchmark -P 16): {rate:,.0f} commands/s; "
              f"on paper one primary carries {rate / lived['commands_per_message']:,.0f} "
              "messages/s by commands")
    print(f"  by Redis CPU alone: {1e6 / lived['redis_cpu_us_per_message']:,.0f} messages/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000, help="per measure")
    parser.add_argument("--threads", type=int, default=8, help="worker threads per process")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2], metavar="N",
                        help="worker processes, one measure series each (default: 1 2)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-conf", action="store_true",
                        help="plain redis-server instead of config/redis.conf (appendfsync)")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="record the gateway worker with py-spy (--gil, collapsed stacks) "
                        "to FILE")
    parser.add_argument("--gateway-module", default="notifier.worker", metavar="MODULE",
                        help="the gateway worker's module, to try a variant (default: %(default)s)")
    parser.add_argument("--life", type=int, default=0, metavar="N",
                        help="then follow N SMS through booking, hand-off and send, untimed")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    # The workers import bench.noop_worker and run in a scratch folder.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )

    extra = () if args.no_conf else (str(REDIS_CONF),)
    with tempfile.TemporaryDirectory() as scratch, \
            running_redis(Path(scratch) / "redis", extra_args=extra) as server, \
            FakeTwilioProcess() as fake:
        config = GatewayConfig(
            redis_url=server.url, outbox_dir=Path(scratch) / "outbox",
            window_sms="always", window_voice="always", public_base_url="https://gw.example.org",
            twilio_sms_from="+15145550000", twilio_voice_from="+15145550001",
            sms_segments_per_second=100_000, **fake.settings_overrides(),
        )
        settings = config.settings()
        client = redis.Redis.from_url(server.url)
        broker = build_broker(settings)
        broker.declare_queue(SEND_QUEUE)
        broker.declare_queue(NOOP_QUEUE)
        intake = Intake(client, settings)
        assert server.process is not None
        server_pid = server.process.pid
        print(f"redis-server {'plain' if args.no_conf else 'with config/redis.conf'}; "
              f"FakeTwilio in process {fake.pid}; logs in {scratch}", file=sys.stderr)
        results: dict[int, Rounds] = {}
        booked = 0
        with Processes(config, workdir=Path(scratch) / "processes") as processes:
            for workers, number in ((w, n) for w in args.processes for n in range(args.rounds)):
                payloads = booked_payloads(intake, args.messages, first=1 + booked)
                booked += args.messages
                noop = measure("no-op actor", processes, client, broker,
                               module="bench.noop_worker", queue=NOOP_QUEUE, actor=NOOP_ACTOR,
                               payloads=payloads, workers=workers, threads=args.threads,
                               redis_pid=server_pid, twilio_pid=fake.pid)
                sent_before = fake.messages_taken()

                def all_sent_once(expected: int = sent_before + len(payloads)) -> None:
                    if (taken := fake.messages_taken()) != expected:
                        raise SystemExit(f"FakeTwilio took {taken} SMS, "
                                         f"expected {expected}: see the worker's log")

                gateway = measure("gateway send_message", processes, client, broker,
                                  module=args.gateway_module, queue=SEND_QUEUE, actor=SEND_ACTOR,
                                  payloads=payloads, workers=workers, threads=args.threads,
                                  check=all_sent_once, redis_pid=server_pid,
                                  twilio_pid=fake.pid,
                                  profile=args.profile)
                print(f"{_processes(workers)}, round {number + 1}: no-op {noop.rate:,.0f} "
                      f"msg/s, gateway {gateway.rate:,.0f} msg/s", file=sys.stderr)
                results.setdefault(workers, []).append((noop, gateway))
            lived = None
            if args.life:
                lived = life(processes, client, intake, fake, count=args.life,
                             first=1 + booked, threads=args.threads,
                             folder=Path(scratch) / "round-trips")
                lived["redis_ops_per_s"] = server_rate(server.url)
        client.close()
        broker.close()
    for workers, rounds in results.items():
        report(rounds, workers=workers, threads=args.threads)
    compare(results, threads=args.threads)
    if lived is not None:
        report_life(lived)
    if args.json is not None:
        args.json.write_text(json.dumps({"processes": {
            str(workers): figures(rounds) for workers, rounds in results.items()
        }, "life": lived}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
