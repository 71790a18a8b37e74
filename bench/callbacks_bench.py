"""Benchmark: callbacks to booking systems, beside SMS sending and on their own, each next
to a baseline measured in the same run.

One private redis-server (with config/redis.conf unless --no-conf), the loopback Twilio
(``bench/twilio_process.py``) and the loopback callback receiver
(``bench/receiver_process.py``), each in a process of its own; the gateway's processes as
the Procfile runs them: ``notifier worker`` (the intake and send queues), ``notifier
worker --queues callbacks`` (one process) and ``notifier scheduler``, with
``NOTIFIER_CALLBACKS_ALLOW_PRIVATE=true`` (the receiver is on loopback).

1. A receiver that never answers does not slow sending. Each round measures two arms,
   in alternating order, each on a key prefix of its own (a clean schedule, log and
   queues) and with the same three processes running:
     - baseline: no integrator at all;
     - stalled receiver: an integrator for the appointments' location whose endpoint
       (every ``message.*`` event) is the receiver's ``/slow``, which answers nothing
       within the 15 s timeout. The scheduler fans each SMS's events out to it and hands
       them to the callbacks worker, whose attempts hold its threads for 15 s; the
       endpoint's other deliveries wait their turn (``NOTIFIER_CALLBACK_CONCURRENCY``,
       default 4 in flight) and come back every 2 s.
   An arm books --messages appointments (SMS only, a confirmation due now each), claims
   them as the scheduler would, starts the processes, then enqueues every payload and
   times until the send queue holds nothing waiting, running or delayed. Reported: SMS/s
   of each arm (the median round), the ratio (the aim: within 5 %), Redis commands and
   CPU per SMS, the callback attempts the receiver got meanwhile.
2. Callbacks delivered per second by one callbacks worker process (--threads threads)
   to a receiver answering 200 at once, against ``bench/noop_worker.py``'s no-op actor
   (same processes and threads) given the same deliveries, rounds alternating. The log
   entries come from --callbacks SMS sent through the real worker beforehand (untimed);
   each round has an endpoint of its own (the previous one disabled) and the fan-out's
   cursor is deleted so that the round fans the whole log out again. The timed span
   runs from the fan-out (in this process, ``CallbackDispatch``, as ``notifier
   scheduler`` runs it) and the hand-off until the queue is empty. Reported: callbacks/s,
   the ratio, and Redis commands per callback (``INFO commandstats``, commands run inside
   Lua scripts included, the benchmark's own polling left out; fan-out apart), Redis's
   and each process's CPU per callback. ``NOTIFIER_CALLBACK_CONCURRENCY`` is --threads
   here, so that no delivery waits for a place in flight.
3. The status API (``GET /v1/messages/{id}``), when the web app has it.

--json writes the figures to a file as well; --quick makes the sizes small.

    PYTHONPATH=. python bench/callbacks_bench.py               # 1,500 SMS x 3 rounds
    PYTHONPATH=. python bench/callbacks_bench.py --quick --json /tmp/callbacks.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dramatiq
import redis

from bench.delivery_bench import REDIS_CONF, booked_payloads, command_calls, cpu_seconds, redis_cpu
from bench.receiver_process import ReceiverProcess
from bench.twilio_process import FakeTwilioProcess
from notifier.actors import build_broker
from notifier.callbacks.dispatch import CallbackDispatch
from notifier.callbacks.events import callback_events
from notifier.clock import utc_now
from notifier.integrators.model import MESSAGE_EVENTS, Endpoint, EndpointState
from notifier.local_redis import running_redis
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.names import CALLBACK_QUEUE, PATIENT_QUEUES, SEND_ACTOR, SEND_QUEUE
from notifier.store.callback_deliveries import delivery_name
from notifier.store.callback_log import CallbackLog
from notifier.store.intake import Intake
from notifier.store.integrators import IntegratorStore
from notifier.store.keys import Keys
from tests.harness import GatewayConfig, Processes

AIM = 0.95  # sending with a stalled receiver keeps at least 95 % of the baseline's rate
POLL = 0.02
NOOP_QUEUE = NOOP_ACTOR = "noop"  # bench/noop_worker.py's (importing it builds a broker)
BENCH = "callbacks-bench"  # the actor named in the integrators' audit


@dataclass(frozen=True)
class Measure:
    """One timed batch.

    Parameters:
      name: what ran.
      count: SMS sent, or callbacks (or no-op messages) done.
      seconds: from the first enqueue (or the fan-out) until the queue held nothing.
      commands: Redis command calls by name meanwhile, the benchmark's polling left out.
      cpu: CPU seconds used meanwhile, by process (each a process group, or this one).
      extra: figures of this kind of measure (callback attempts, the fan-out's commands).
    """

    name: str
    count: int
    seconds: float
    commands: Counter[str]
    cpu: dict[str, float]
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def per_item(self) -> float:
        return sum(self.commands.values()) / self.count

    def cpu_ms(self) -> dict[str, float]:
        return {part: used / self.count * 1000 for part, used in self.cpu.items()}


Rounds = list[tuple[Measure, Measure]]  # (baseline, measured), one pair per round


def median(measures: list[Measure]) -> Measure:
    """The measure with the median rate (the upper one of an even count)."""
    return sorted(measures, key=lambda m: m.rate)[len(measures) // 2]


class Counters:
    """Redis's command calls and CPU, and the CPU of the processes named, at one moment.

    Parameters:
      client: a client of the benchmark's Redis.
      groups: process group ids by the name they are reported under.
    """

    def __init__(self, client: redis.Redis, groups: dict[str, int]) -> None:
        self.client = client
        self.groups = groups
        self.commands = command_calls(client)
        self.redis_cpu = redis_cpu(client)
        self.cpu = self._cpu()

    def _cpu(self) -> dict[str, float]:
        mine = os.times()
        return {**{name: cpu_seconds(pgid) for name, pgid in self.groups.items()},
                "bench": mine.user + mine.system}

    def since(self, *, polls: int) -> tuple[Counter[str], dict[str, float]]:
        """Commands (less ``polls`` of ``Processes.queue_settled``, two HLEN each) and CPU
        since these counters were taken."""
        commands = command_calls(self.client) - self.commands
        commands["hlen"] -= 2 * polls
        commands += Counter()  # drop zero counts
        now = self._cpu()
        cpu = {part: now[part] - self.cpu[part] for part in now}
        cpu["redis-server"] = redis_cpu(self.client) - self.redis_cpu
        return commands, cpu


def settle(processes: Processes, queue: str, *, what: str, limit: float = 600) -> int:
    """Wait until ``queue`` holds nothing; returns how many polls it took."""
    polls, deadline = 1, time.monotonic() + limit
    while not processes.queue_settled(queue):
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: the {queue} queue did not empty in {limit:g} s; "
                             + "; ".join(processes.queue_leftovers(queue)[:5]))
        polls += 1
        time.sleep(POLL)
    return polls


@dataclass
class Bench:
    """What every measure shares.

    Parameters:
      base: the gateway's settings but the key prefix.
      client: a client of the benchmark's Redis.
      redis_pid: redis-server's process id.
      fake: the loopback Twilio.
      receiver: the loopback callback receiver.
      scratch: where each arm's processes run and write their output.
      threads: worker threads per process.
    """

    base: GatewayConfig
    client: redis.Redis
    redis_pid: int
    fake: FakeTwilioProcess
    receiver: ReceiverProcess
    scratch: Path
    threads: int
    booked: int = 0

    def book(self, intake: Intake, count: int) -> list[dict[str, Any]]:
        payloads = booked_payloads(intake, count, first=1 + self.booked)
        self.booked += count
        return payloads

    def groups(self, processes: Processes, *names: str) -> dict[str, int]:
        return {**{name: processes[name].pid for name in names},
                "FakeTwilio": self.fake.pid, "receiver": self.receiver.pid}

    def add_endpoint(self, store: IntegratorStore, keys: Keys, *, integrator: str,
                     path: str) -> Endpoint:
        """An endpoint of ``integrator`` (added if new, for the sample location) that
        wants every ``message.*`` event, at the receiver's ``path``."""
        now = utc_now()
        if store.get(integrator) is None:
            store.add(integrator, name=integrator, locations=frozenset({SAMPLE_LOCATION.id}),
                      actor=BENCH, now=now)
        # An endpoint is made with a public https URL; the receiver's is known here.
        endpoint, secret = store.add_endpoint(integrator, url="https://receiver.invalid/",
                                              types=frozenset(MESSAGE_EVENTS), actor=BENCH,
                                              now=now)
        self.client.hset(keys.endpoint(endpoint.id), "url", self.receiver.url(path))
        self.receiver.accept_secret(secret)
        return endpoint

    @contextmanager
    def arm(self, prefix: str, **values: object) -> Iterator[tuple[Processes, Intake,
                                                                   dramatiq.Broker]]:
        """The processes, intake and broker of one key prefix."""
        config = self.base.with_values(queue_prefix=prefix, **values)
        settings = config.settings()
        broker = build_broker(settings)
        try:
            with Processes(config, workdir=self.scratch / prefix) as processes:
                yield processes, Intake(self.client, settings), broker
        finally:
            broker.close()

    def enqueue(self, broker: dramatiq.Broker, queue: str, actor: str,
                payloads: list[Any]) -> None:
        for payload in payloads:
            broker.enqueue(dramatiq.Message(queue_name=queue, actor_name=actor,
                                            args=(payload,), kwargs={}, options={}))

    def check_sent(self, before: int, count: int) -> None:
        if (taken := self.fake.messages_taken()) != before + count:
            raise SystemExit(f"FakeTwilio took {taken - before} SMS, expected {count}: see "
                             f"the workers' logs under {self.scratch}")

    def start_sender(self, processes: Processes) -> None:
        processes.start_worker("send", through_cli=True, queues=PATIENT_QUEUES,
                               processes=1, threads=self.threads)

    def start_callbacks(self, processes: Processes) -> None:
        processes.start_worker("callbacks", through_cli=True, queues=(CALLBACK_QUEUE,),
                               processes=1, threads=self.threads)


# -- 1. sending beside a stalled receiver --------------------------------------------------

def send_arm(bench: Bench, *, prefix: str, stalled: bool, messages: int) -> Measure:
    """Send ``messages`` SMS with the scheduler and a callbacks worker running; with
    ``stalled``, to appointments whose integrator's endpoint never answers."""
    with bench.arm(prefix) as (processes, intake, broker):
        keys = Keys(prefix)
        if stalled:
            bench.add_endpoint(IntegratorStore(bench.client, intake.settings), keys,
                               integrator="stalled", path="/slow")
        payloads = bench.book(intake, messages)
        processes.start_scheduler("scheduler")
        bench.start_callbacks(processes)
        bench.start_sender(processes)
        sent_before = bench.fake.messages_taken()
        attempts_before = sum(bench.receiver.received().values())
        counters = Counters(bench.client, bench.groups(processes, "send", "callbacks",
                                                       "scheduler"))
        started = time.perf_counter()
        bench.enqueue(broker, SEND_QUEUE, SEND_ACTOR, payloads)
        polls = settle(processes, SEND_QUEUE, what="sending")
        seconds = time.perf_counter() - started
        commands, cpu = counters.since(polls=polls)
        attempts = sum(bench.receiver.received().values()) - attempts_before
        logged = int(bench.client.xlen(keys.callback_log))
        # Attempts in flight wait for their timeout: no need to wait for them.
        processes.kill("callbacks")
    bench.check_sent(sent_before, messages)
    name = "stalled receiver" if stalled else "no integrator"
    return Measure(name, messages, seconds, commands, cpu,
                   extra={"callback_attempts": attempts, "log_entries": logged})


def sending(bench: Bench, *, rounds: int, messages: int) -> Rounds:
    results: Rounds = []
    for number in range(rounds):
        measured: dict[bool, Measure] = {}
        for stalled in ((False, True) if number % 2 == 0 else (True, False)):
            measured[stalled] = send_arm(bench, prefix=f"send{number}{'s' if stalled else 'b'}",
                                         stalled=stalled, messages=messages)
        print(f"sending, round {number + 1}: no integrator {measured[False].rate:,.0f} SMS/s, "
              f"stalled receiver {measured[True].rate:,.0f} SMS/s", file=sys.stderr)
        results.append((measured[False], measured[True]))
    return results


# -- 2. callbacks per second ---------------------------------------------------------------

def log_entries(bench: Bench, *, prefix: str, count: int) -> None:
    """Send ``count`` SMS through the real worker (untimed), which fills the log."""
    with bench.arm(prefix) as (processes, intake, broker):
        payloads = bench.book(intake, count)
        bench.start_sender(processes)
        sent_before = bench.fake.messages_taken()
        bench.enqueue(broker, SEND_QUEUE, SEND_ACTOR, payloads)
        settle(processes, SEND_QUEUE, what="filling the callback log")
        processes.stop("send")
    bench.check_sent(sent_before, count)


def wanted(client: redis.Redis, keys: Keys, endpoint: Endpoint) -> list[str]:
    """The deliveries the whole log makes for ``endpoint``."""
    found: list[str] = []
    after: str | None = None
    log = CallbackLog(client, keys=keys)
    while entries := log.read(after=after, count=1000):
        after = entries[-1].id
        found += (delivery_name(endpoint.id, str(event["id"]))
                  for entry in entries for event in callback_events(entry)
                  if endpoint.wants(str(event["type"])))
    return found


def noop_arm(bench: Bench, processes: Processes, broker: dramatiq.Broker,
             deliveries: list[str]) -> Measure:
    processes.start_worker("noop", module="bench.noop_worker", processes=1,
                           threads=bench.threads)
    try:
        counters = Counters(bench.client, bench.groups(processes, "noop"))
        started = time.perf_counter()
        bench.enqueue(broker, NOOP_QUEUE, NOOP_ACTOR, deliveries)
        polls = settle(processes, NOOP_QUEUE, what="the no-op actor")
        seconds = time.perf_counter() - started
        commands, cpu = counters.since(polls=polls)
    finally:
        processes.stop("noop")
    return Measure("no-op actor", len(deliveries), seconds, commands, cpu)


def callbacks_arm(bench: Bench, processes: Processes, keys: Keys, store: IntegratorStore,
                  expected: int) -> Measure:
    dispatch = CallbackDispatch(bench.client, keys=keys, endpoints=store, clock=utc_now,
                                concurrency=bench.threads)
    bench.start_callbacks(processes)
    try:
        answered_before = bench.receiver.received()
        counters = Counters(bench.client, bench.groups(processes, "callbacks"))
        started = time.perf_counter()
        while dispatch.fan_out() > 0:
            pass
        fan_out = sum(command_calls(bench.client).values()) - sum(counters.commands.values())
        _, handed = dispatch.run_once()
        polls = settle(processes, CALLBACK_QUEUE, what="delivering callbacks")
        seconds = time.perf_counter() - started
        commands, cpu = counters.since(polls=polls)
    finally:
        processes.stop("callbacks")
    answered = bench.receiver.received() - answered_before
    left = bench.client.zcard(keys.callbacks_due) + bench.client.zcard(keys.callbacks_claimed)
    if handed != expected or answered != Counter({200: expected}) or left:
        raise SystemExit(f"expected {expected} callbacks answered 200, handed off {handed}, "
                         f"the receiver answered {dict(answered)}, {left} left scheduled")
    return Measure("deliver_callback", handed, seconds, commands, cpu,
                   extra={"fan_out_commands": fan_out / handed})


def delivering(bench: Bench, *, rounds: int, callbacks: int) -> Rounds:
    prefix = "rate"
    log_entries(bench, prefix=prefix, count=callbacks)
    keys = Keys(prefix)
    results: Rounds = []
    with bench.arm(prefix, callback_concurrency=bench.threads) as (processes, intake, broker):
        store = IntegratorStore(bench.client, intake.settings)
        previous: Endpoint | None = None
        for number in range(rounds):
            if previous is not None:
                store.set_endpoint_state(previous.id, EndpointState.DISABLED, now=utc_now(),
                                         reason="the benchmark's round is over", actor=BENCH)
            previous = endpoint = bench.add_endpoint(store, keys, integrator="answering",
                                                     path="/ok")
            bench.client.delete(keys.callbacks_cursor)  # fan the whole log out again
            deliveries = wanted(bench.client, keys, endpoint)
            measured: dict[str, Measure] = {}
            for which in (("noop", "callbacks") if number % 2 == 0 else ("callbacks", "noop")):
                measured[which] = (noop_arm(bench, processes, broker, deliveries)
                                   if which == "noop" else
                                   callbacks_arm(bench, processes, keys, store, len(deliveries)))
            print(f"callbacks, round {number + 1}: no-op {measured['noop'].rate:,.0f}/s, "
                  f"deliver_callback {measured['callbacks'].rate:,.0f}/s", file=sys.stderr)
            results.append((measured["noop"], measured["callbacks"]))
    return results


# -- 3. the status API ---------------------------------------------------------------------

def status_api(bench: Bench) -> bool:
    """Whether the web app serves ``GET /v1/messages/{...}``."""
    from notifier.web.app import create_app

    settings = bench.base.with_values(api_token="b" * 32).settings()
    app = create_app(settings, redis=bench.client)
    return any(str(getattr(route, "path", "")).startswith("/v1/messages/{")
               and "GET" in (getattr(route, "methods", None) or ())
               for route in app.routes)


# -- report ----------------------------------------------------------------------------------

def report(rounds: Rounds, *, title: str, unit: str, aim: float | None) -> dict[str, Any]:
    baseline = median([pair[0] for pair in rounds])
    measured = median([pair[1] for pair in rounds])
    ratio = measured.rate / baseline.rate
    print(f"\n{title}, median of {len(rounds)} round(s)")
    print(f"{'':22}{unit + '/s':>10}{'Redis cmds/' + unit:>18}   rounds ({unit}/s)")
    for this, index in ((baseline, 0), (measured, 1)):
        each = ", ".join(f"{pair[index].rate:,.0f}" for pair in rounds)
        print(f"{this.name:22}{this.rate:>10,.0f}{this.per_item:>18.1f}   {each}")
    ratios = [pair[1].rate / pair[0].rate for pair in rounds]
    verdict = "" if aim is None else f" ({'meets' if ratio >= aim else 'BELOW'} the aim of " \
                                     f"{aim:.0%})"
    print(f"ratio {measured.name} / {baseline.name}: {ratio:.1%}{verdict}; per round "
          + ", ".join(f"{r:.1%}" for r in ratios))
    for this in (baseline, measured):
        cpu = ", ".join(f"{part} {ms:.2f}" for part, ms in this.cpu_ms().items())
        print(f"  {this.name}: CPU ms per {unit}: {cpu}")
        top = ", ".join(f"{name} {calls / this.count:.2f}"
                        for name, calls in this.commands.most_common(10))
        print(f"  {this.name}: Redis calls per {unit}: {top}")
        for name, value in this.extra.items():
            print(f"  {this.name}: {name.replace('_', ' ')}: {value:,.2f}")
    return {
        "rate": measured.rate, "baseline_rate": baseline.rate, "ratio": ratio,
        "ratio_per_round": ratios, "ratio_median_of_rounds": statistics.median(ratios),
        "commands_per_item": measured.per_item, "baseline_commands_per_item": baseline.per_item,
        "cpu_ms_per_item": measured.cpu_ms(), "baseline_cpu_ms_per_item": baseline.cpu_ms(),
        "extra": measured.extra, "baseline_extra": baseline.extra,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=1500, help="SMS per sending arm")
    parser.add_argument("--callbacks", type=int, default=2000,
                        help="SMS whose callbacks are delivered, per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8, help="worker threads per process")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: 300 SMS and 500 callbacks, 2 rounds")
    parser.add_argument("--no-conf", action="store_true",
                        help="plain redis-server instead of config/redis.conf (appendfsync)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.callbacks, args.rounds = 300, 500, 2
    # The workers import bench.noop_worker and run in a scratch folder.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(REDIS_CONF.parents[1]), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    extra = () if args.no_conf else (str(REDIS_CONF),)
    started = time.monotonic()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch, \
            running_redis(Path(scratch) / "redis", extra_args=extra) as server, \
            FakeTwilioProcess() as fake, ReceiverProcess() as receiver:
        assert server.process is not None
        client = redis.Redis.from_url(server.url)
        base = GatewayConfig(
            redis_url=server.url, outbox_dir=Path(scratch) / "outbox",
            window_sms="always", window_voice="always", public_base_url="https://gw.example.org",
            twilio_sms_from="+15145550000", twilio_voice_from="+15145550001",
            sms_segments_per_second=100_000, callbacks_allow_private=True,
            **fake.settings_overrides(),
        )
        bench = Bench(base, client, server.process.pid, fake, receiver, Path(scratch),
                      args.threads)
        print(f"redis-server {'plain' if args.no_conf else 'with config/redis.conf'}; "
              f"logs in {scratch}", file=sys.stderr)
        sent = sending(bench, rounds=args.rounds, messages=args.messages)
        delivered = delivering(bench, rounds=args.rounds, callbacks=args.callbacks)
        has_status_api = status_api(bench)
        client.close()
    figures = {
        "sending": report(sent, title=f"1. SMS sending, {args.messages:,} SMS per arm, "
                          f"1 send worker process x {args.threads} threads, a callbacks "
                          "worker and the scheduler running", unit="SMS", aim=AIM),
        "callbacks": report(delivered, title=f"2. callbacks, one callbacks worker process x "
                            f"{args.threads} threads, receiver answering 200 at once",
                            unit="callback", aim=None),
    }
    print("\n3. status API (GET /v1/messages/{id}): "
          + ("present, not measured by this script yet" if has_status_api
             else "absent on this branch: skipped"))
    ended = os.getloadavg()
    print(f"\nload average at the start {load[0]:.2f}, at the end {ended[0]:.2f} "
          f"({os.cpu_count()} CPUs); {time.monotonic() - started:.0f} s")
    if args.json is not None:
        args.json.write_text(json.dumps({
            **figures, "status_api": has_status_api,
            "load_average": {"start": load[0], "end": ended[0]},
        }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
