"""The fault suite's run: the gateway's real processes (web, two workers, two schedulers)
against the suite's own durable Redis (or, in :mod:`tests.faults.test_failover`, a
Redis Sentinel deployment), the loopback Twilio and SMTP servers, a booking
system's callback receiver on loopback, a stream of appointment stories through the web
process (some at a clinic with a channel fallback, whose patients' numbers Twilio refuses
for good), and faults injected all along (see :mod:`tests.faults.injector`). The run
happens once per module (:func:`fault_run`, built by :func:`run_faults`); each test
then checks one promise against what it left.

Short mode (the default, in CI): 45 s of traffic, one cycle of faults; the run takes
about 2.3 minutes, the whole folder (with the two focused tests, one of them a
minute-long Twilio outage) about 6, and the failover module two such runs. Long mode:
``NOTIFIER_SOAK_SECONDS=600 pytest tests/faults -s`` runs the same scenario with that many
seconds of traffic and as many cycles of faults as fit. Set ``NOTIFIER_FAULTS_SEED`` to
replay a run: the seed is printed at the start of each.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from notifier.callbacks.events import callback_events
from notifier.domain import Channel
from notifier.integrators.model import EVENT_TYPES
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.names import CALLBACK_QUEUE, INTAKE_QUEUE, SEND_QUEUE
from notifier.store.callback_deliveries import CallbackDeliveries
from notifier.store.callback_log import CallbackLog
from notifier.store.connect import connect_redis
from notifier.store.decoding import text
from notifier.store.history import History
from notifier.store.integrators import IntegratorStore
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutStore
from notifier.store.schedule import Schedule
from tests.fakes.conftest_fixtures import fake_smtp, fake_twilio
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio, Outcome, rebase
from tests.fakes.twilio_server import Record as TwilioRequest
from tests.fakes.webhook_receiver import FakeReceiver
from tests.faults.injector import DurableRedis, Fault, Injector, Tally, plan_faults
from tests.faults.ledger import Delivered, Findings, Record, check, delivered, delivery_records
from tests.faults.workload import (
    FALLBACK_LOCATION,
    Appointment,
    Driver,
    Story,
    Timing,
    plan_workload,
    reminder_dues,
)
from tests.harness import GatewayConfig, HarnessError, Processes, wait_until
from tests.sentinel_cluster import SentinelCluster

__all__ = ["fake_smtp", "fake_twilio"]  # fixtures, for the outage test

SHORT_SECONDS = 45.0
APPOINTMENTS_PER_SECOND = 1.2
WORKER_THREADS = 4
PUBLIC = "https://gateway.example.org"
API_TOKEN = "faults-intake-token-0123456789abcdef"
SMS_FROM = "+15145550000"
VOICE_FROM = "+15145550001"
SETTLE_MARGIN = 120.0  # seconds to settle after the last message is due


def soak_seconds() -> float:
    """Seconds of traffic: ``NOTIFIER_SOAK_SECONDS``, else the short mode's."""
    raw = os.environ.get("NOTIFIER_SOAK_SECONDS", "").strip()
    return float(raw) if raw else SHORT_SECONDS


def run_seed() -> int:
    raw = os.environ.get("NOTIFIER_FAULTS_SEED", "").strip()
    return int(raw) if raw else secrets.randbits(32)


@dataclass
class FaultRun:
    """What one run left behind, for the checks.

    Parameters:
      seed: replays the run (``NOTIFIER_FAULTS_SEED``).
      seconds: seconds of traffic.
      timing: the workload's clock.
      appointments: the stories told, with the times the gateway acknowledged each step.
      steps_sent: requests the workload made (events and texts), retries aside.
      retries: requests retried because the gateway could not take them then.
      tally: what the injector did.
      messages: what the providers took.
      twilio_requests: how many create requests the fake Twilio received.
      twilio_request_times: when each arrived (epoch seconds).
      records: the gateway's delivery records at the end.
      findings: the ledgers against the oracle.
      dead_letters: Dramatiq dead letters on the send queue.
      settled_after: seconds from the last fault to everything settled.
      duration: seconds the whole run took.
      output: everything the processes wrote.
      ambiguous_injected: an upper bound on the ambiguous sends the faults could cause.
      callbacks_owed: the ids of the callback events the log holds for the receiver's
        integrator.
      callbacks_received: the ``webhook-id`` of every callback the receiver got, in order
        of arrival, with whether its signature verified.
      undeliverable_told: per appointment, the distinct ``contact.undeliverable`` events
        the receiver got (their ``webhook-id``).
      opted_out: per appointment whose patient texted ARRET, whether the number is
        opted out at the end.
    """

    seed: int
    seconds: float
    timing: Timing
    appointments: list[Appointment]
    steps_sent: int
    retries: int
    tally: Tally
    messages: list[Delivered]
    twilio_requests: int
    twilio_request_times: list[float]
    records: list[Record]
    findings: Findings
    dead_letters: int
    settled_after: float
    duration: float
    output: str
    ambiguous_injected: int
    callbacks_owed: set[str]
    callbacks_received: list[tuple[str, bool]]
    undeliverable_told: dict[str, set[str]]
    opted_out: dict[str, bool]

    @property
    def callbacks_lost(self) -> set[str]:
        return self.callbacks_owed - {webhook_id for webhook_id, _ in self.callbacks_received}

    @property
    def callback_duplicates(self) -> int:
        return len(self.callbacks_received) - len(set(self.callbacks_received))

    def summary(self) -> str:
        f, t = self.findings, self.tally
        late = f.max_lateness()
        lines = [
            f"fault suite: seed {self.seed}, {self.seconds:g}s of traffic, run took "
            f"{self.duration:.0f}s, settled {self.settled_after:.1f}s after the last fault",
            f"  appointments {len(self.appointments)}, events and texts sent "
            f"{self.steps_sent} (retried {self.retries} times)",
            f"  messages delivered {len(self.messages)} "
            f"({', '.join(f'{c} {n}' for c, n in sorted(f.by_channel.items()))}); "
            f"Twilio create requests {self.twilio_requests}",
            f"  kills: workers {t.worker_kills}, schedulers {t.scheduler_kills}; Redis "
            f"restarts {t.redis_restarts}; failovers {t.failovers}; Twilio windows "
            f"{len(t.windows)}; SMTP refusals {t.smtp_refusals}",
            f"  duplicates at providers {f.duplicate_copies} "
            f"({', '.join(f'{c} {n}' for c, n in sorted(f.duplicates_by_channel.items()))}"
            "), ambiguous sends counted "
            f"{f.ambiguous_counted} (bound from faults injected: {self.ambiguous_injected})",
            f"  lost {len(f.lost)}, unaccounted duplicates {len(f.duplicates)}, after ARRET "
            f"{len(f.after_optout)}, stale {len(f.stale)}, unknown {len(f.unknown)}, dead "
            f"letters {self.dead_letters}",
            f"  fallbacks: {sum(1 for a in self.appointments if a.refused)} appointments "
            f"refused for good, messages refused {sum(f.refused.values())} "
            f"({', '.join(f'{r} {n}' for r, n in sorted(f.refused.items()))}), fallbacks "
            f"handed to a provider {f.fallbacks_sent}, problems {len(f.fallbacks)}",
            f"  callbacks owed {len(self.callbacks_owed)}, received "
            f"{len(self.callbacks_received)} (duplicates {self.callback_duplicates}, each "
            f"with its own webhook-id), lost {len(self.callbacks_lost)}",
            "  max lateness: " + (", ".join(f"{k} {v:.1f}s" for k, v in sorted(late.items()))
                                  or "none"),
            "  lateness: " + f.lateness_summary(),
        ]
        return "\n".join(lines)


@pytest.fixture(scope="module")
def durable_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DurableRedis]:
    server = DurableRedis(tmp_path_factory.mktemp("faults-redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def providers() -> Iterator[tuple[FakeTwilio, FakeSmtp]]:
    with FakeTwilio() as twilio, FakeSmtp() as smtp:
        yield twilio, smtp


# The clinics of the workload: the booking system acts for both.
LOCATIONS = frozenset({SAMPLE_LOCATION.id, FALLBACK_LOCATION["id"]})


def add_callback_receiver(client: redis.Redis, config: GatewayConfig,
                          secret_holder: list[str]) -> FakeReceiver:
    """A booking system acting for the workload's locations, with one endpoint receiving
    every event type at a receiver on loopback (the caller starts and stops it)."""
    settings = config.settings()
    store = IntegratorStore(client, settings)
    now = dt.datetime.now(dt.UTC)
    store.add("faults-booking", name="Fault suite's booking system",
              locations=LOCATIONS, actor="fault-suite", now=now)
    endpoint, secret = store.add_endpoint(
        "faults-booking", url="http://placeholder.invalid/", types=frozenset(EVENT_TYPES),
        actor="fault-suite", now=now)
    secret_holder.append(secret)
    receiver = FakeReceiver(secrets=[secret])
    client.hset(Keys(settings.queue_prefix).endpoint(endpoint.id), "url", receiver.url("/ok"))
    return receiver


def callbacks_owed(client: redis.Redis, keys: Keys) -> set[str]:
    """Every event the callback log holds for the workload's locations."""
    log = CallbackLog(client, keys=keys)
    owed: set[str] = set()
    after = None
    while entries := log.read(after=after, count=1000):
        for entry in entries:
            locations = ([entry.fields["location"]] if "location" in entry.fields
                         else entry.fields.get("locations", "").split(","))
            if LOCATIONS & set(locations):
                owed.update(str(event["id"]) for event in callback_events(entry))
        after = entries[-1].id
    return owed


def gateway_config(
    redis_url: str | None, twilio: FakeTwilio, smtp: FakeSmtp, outbox: Path, timing: Timing,
    **redis_settings: object,
) -> GatewayConfig:
    """Every channel through the loopback providers, every window open, short timeouts
    and leases so that what a fault interrupts comes back within seconds. Redis is at
    ``redis_url``, or where ``redis_settings`` (``redis_sentinels``...) say."""
    return GatewayConfig(
        redis_url=redis_url, api_token=API_TOKEN, outbox_dir=outbox, **redis_settings,
        window_sms="always", window_voice="always", window_email="always",
        callbacks_allow_private=True, public_base_url=PUBLIC, twilio_sms_from=SMS_FROM,
        twilio_voice_from=VOICE_FROM,
        twilio_timeout=dt.timedelta(seconds=2), smtp_timeout=dt.timedelta(seconds=2),
        sms_segments_per_second=50, voice_calls_per_second=50,
        scheduler_poll=dt.timedelta(seconds=1), scheduler_lease=dt.timedelta(seconds=5),
        worker_heartbeat_timeout=dt.timedelta(seconds=5), broker_maintenance_chance=1_000_000,
        **timing.settings(), **twilio.settings_overrides(), **smtp.settings_overrides(),
    )


@pytest.fixture(scope="module")
def fault_run(
    durable_redis: DurableRedis, providers: tuple[FakeTwilio, FakeSmtp],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FaultRun]:
    yield run_faults(providers, tmp_path_factory.mktemp("faults"), plan=plan_faults,
                     durable=durable_redis, redis_url=durable_redis.url)


def run_faults(
    providers: tuple[FakeTwilio, FakeSmtp], workdir: Path, *,
    plan: Callable[..., list[Fault]], durable: DurableRedis | None = None,
    cluster: SentinelCluster | None = None, redis_url: str | None = None,
    **redis_settings: object,
) -> FaultRun:
    """One run: the processes started on the Redis that ``redis_url`` or
    ``redis_settings`` name, the workload driven through them while the faults of
    ``plan(rng, length=..., until=...)`` happen (to ``durable`` or ``cluster``), then
    everything settled and read back for the checks."""
    twilio, smtp = providers
    seed, seconds, timing = run_seed(), soak_seconds(), Timing()
    print(f"\nfault suite: seed {seed} (NOTIFIER_FAULTS_SEED={seed} replays it), "
          f"{seconds:g}s of traffic")
    rng = random.Random(seed)
    config = gateway_config(redis_url, twilio, smtp, workdir / "outbox", timing,
                            **redis_settings)
    processes = Processes(config, workdir=workdir / "processes")
    client = connect_redis(config.settings(), needed_by="fault suite")
    keys = Keys(config.settings().queue_prefix)
    receiver = add_callback_receiver(client, config, [])
    receiver.__enter__()
    try:
        began = time.time()
        for name in ("worker", "worker-2"):
            processes.start_worker(name, threads=WORKER_THREADS)
        for name in ("scheduler", "scheduler-2"):
            processes.start_scheduler(name)
        web = processes.start_web()
        twilio.deliver_to = rebase(PUBLIC, f"http://127.0.0.1:{web.port}")

        t0 = time.time() + 1.0
        appointments = plan_workload(rng, t0=t0, seconds=seconds, timing=timing,
                                     per_second=APPOINTMENTS_PER_SECOND)
        refuse_numbers(twilio, appointments)
        faults = plan(rng, length=seconds + 50,
                      until=last_due(appointments, timing) - t0 - 10)
        failed = threading.Event()
        injector = Injector(faults, t0=t0, processes=processes, durable=durable,
                            cluster=cluster, twilio=twilio, smtp=smtp, failed=failed,
                            worker_threads=WORKER_THREADS)
        driver = Driver(base_url=f"http://127.0.0.1:{web.port}", api_token=API_TOKEN,
                        public_base_url=PUBLIC, twilio=twilio, sms_to=SMS_FROM)
        injector.start()
        try:
            steps_sent = driver.run(appointments, stop=failed)
        except BaseException:
            failed.set()
            raise
        finally:
            driver.close()
            injector.join(timeout=max(1.0, t0 + faults[-1].at + 300 - time.time()))
        if injector.is_alive() or injector.error:
            raise HarnessError(f"the fault injector failed: {injector.error or 'still running'}"
                               f"\n{chr(10).join(injector.tally.log)}")
        faults_over = time.time()
        try:
            settle(processes, client, keys, appointments, timing)
        except HarnessError as error:
            raise HarnessError(f"{error}\nfaults (seed {seed}):\n"
                               + "\n".join(injector.tally.log)) from None
        settled_after = time.time() - faults_over

        records = delivery_records(client, keys)
        messages = delivered(twilio, smtp)
        requests = [r for r in twilio.requests if r.endpoint is not None]
        run = FaultRun(
            seed=seed, seconds=seconds, timing=timing, appointments=appointments,
            steps_sent=steps_sent, retries=driver.retries, tally=injector.tally,
            messages=messages, twilio_requests=len(requests),
            twilio_request_times=[r.at for r in requests], records=records,
            findings=check(appointments, messages, records, timing,
                           stories(client, keys, appointments)),
            dead_letters=processes.dead_letters(SEND_QUEUE), settled_after=settled_after,
            duration=time.time() - began, output="",
            ambiguous_injected=ambiguous_bound(injector.tally, requests),
            callbacks_owed=callbacks_owed(client, keys),
            callbacks_received=[(r.headers.get("webhook-id", ""), r.verified)
                                for r in receiver.received],
            undeliverable_told=undeliverable_told(receiver),
            opted_out=opted_out(client, config, appointments),
        )
    finally:
        try:
            processes.close()
        finally:
            client.close()
            receiver.stop()
    run.output = processes.output()
    print(run.summary())
    print("  faults:\n    " + "\n    ".join(run.tally.log))
    return run


def opted_out(client: redis.Redis, config: GatewayConfig,
              appointments: list[Appointment]) -> dict[str, bool]:
    """Per appointment whose patient texted ARRET, whether the number is opted out now."""
    store = OptOutStore(client, config.settings())
    return {a.reference: store.is_opted_out(a.mobile) for a in appointments
            if a.story in (Story.ARRET, Story.REPRISE)}


def refuse_numbers(twilio: FakeTwilio, appointments: list[Appointment]) -> None:
    """Twilio refuses, for good (21211), the number each FALLBACK patient chose to be
    reached at (texts to the mobile, or calls to the home number)."""
    for appointment in appointments:
        number = appointment.refused_number
        if number is not None:
            twilio.fail_number(number, Outcome.error(21211), endpoints=[
                "messages" if appointment.refused is Channel.SMS else "calls"])


def stories(client: redis.Redis, keys: Keys,
            appointments: list[Appointment]) -> dict[str, list[dict[str, str]]]:
    """The stories of the appointments whose number Twilio refused."""
    history = History(client, keys=keys, retention=dt.timedelta(days=1))
    return {a.reference: history.read(a.reference) for a in appointments if a.refused}


def undeliverable_told(receiver: FakeReceiver) -> dict[str, set[str]]:
    """Per appointment, the ``webhook-id`` of each ``contact.undeliverable`` received."""
    told: dict[str, set[str]] = {}
    for got in receiver.received:
        event = json.loads(got.body)
        if event["type"] == "contact.undeliverable":
            told.setdefault(event["data"].get("reference") or "", set()).add(
                got.headers.get("webhook-id", ""))
    return told


def ambiguous_bound(tally: Tally, requests: list[TwilioRequest]) -> int:
    """How many ambiguous sends the injected faults could cause at most: every Twilio
    create answered 5xx, left unanswered or held past the timeout, plus, for every
    worker killed and every Redis restart or failover, every send a worker thread had in
    hand."""
    answered_badly = 0
    for request in requests:
        held = any(window.name.startswith("twilio timeout")
                   and window.start <= request.at <= (window.end or request.at)
                   for window in tally.windows)
        if request.status is None or request.status >= 500 or held:
            answered_badly += 1
    in_hand = WORKER_THREADS * (tally.worker_kills
                                + 2 * (tally.redis_restarts + tally.failovers))
    return answered_badly + in_hand


def last_due(appointments: list[Appointment], timing: Timing) -> float:
    """When the workload's last message falls due (epoch seconds)."""
    return max(
        [due for a in appointments for due in reminder_dues(a.final_start, timing)]
        + [a.booked_at + timing.absent_after + timing.no_show_delay for a in appointments]
    )


def settle(processes: Processes, client: redis.Redis, keys: Keys,
           appointments: list[Appointment], timing: Timing) -> None:
    """Wait, by condition, until every message is due and nothing is left to do: the
    schedule empty, nothing claimed, no Dramatiq message waiting, running or delayed."""
    schedule = Schedule(client, keys=keys, lease=dt.timedelta(seconds=5))
    state: dict[str, object] = {}

    log = CallbackLog(client, keys=keys)

    def settled() -> bool:
        try:
            last = log.redis.xrevrange(keys.callback_log, count=1)
            state.update(
                schedule=schedule.size(), claimed=schedule.claimed_count(),
                send_settled=processes.queue_settled(SEND_QUEUE),
                intake_settled=processes.queue_settled(INTAKE_QUEUE),
                callbacks_settled=processes.queue_settled(CALLBACK_QUEUE),
                callbacks_waiting=client.zcard(keys.callbacks_due)
                + client.zcard(keys.callbacks_claimed),
                callbacks_fanned_out=(not last or client.get(keys.callbacks_cursor)
                                      == last[0][0]),
            )
        except redis.RedisError as error:
            state["error"] = type(error).__name__
            return False
        return (state["schedule"] == 0 and state["claimed"] == 0
                and bool(state["send_settled"]) and bool(state["intake_settled"])
                and bool(state["callbacks_settled"]) and state["callbacks_waiting"] == 0
                and bool(state["callbacks_fanned_out"]))

    due = last_due(appointments, timing)
    wait_until(settled, timeout=max(0.0, due - time.time()) + SETTLE_MARGIN,
               what="the gateway to settle (schedule empty, nothing claimed, send queue "
                    "with nothing waiting, running or delayed, every callback fanned out "
                    "and sent)",
               hint=lambda: leftovers(processes, state), poll=0.5)


def leftovers(processes: Processes, state: dict[str, object]) -> str:
    """The last state seen, where each send message Redis still holds is, and what the
    callbacks still waiting have met."""
    try:
        where = processes.queue_leftovers(SEND_QUEUE) + callback_leftovers(processes)
    except redis.RedisError as error:
        where = [f"(Redis unreadable: {type(error).__name__})"]
    return f"last state {state}\n" + "\n".join(where)


def callback_leftovers(processes: Processes) -> list[str]:
    """The callbacks still waiting: how many are due when, their tries, and each
    endpoint's health and places in flight."""
    keys = processes.keys
    client = processes.redis
    now = time.time()
    due = client.zrange(keys.callbacks_due, 0, -1, withscores=True)
    tries = Counter(int(client.hget(keys.callbacks_tries, member) or 0) for member, _ in due)
    lines = [f"callbacks due: {len(due)}, in (s): "
             + ", ".join(f"{score - now:.0f}" for _, score in due[:10])
             + f"; tries so far: {dict(sorted(tries.items()))}; claimed: "
             f"{client.zcard(keys.callbacks_claimed)}; dead: {client.zcard(keys.callbacks_dead)}"]
    healths = CallbackDeliveries(client, keys=keys).healths(
        text(member).split(":")[2] for member in client.keys(keys.endpoint("*:health")))
    lines += [f"endpoint {endpoint}: {health}" for endpoint, health in healths.items()]
    return lines
