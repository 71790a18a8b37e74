"""Patients answering "1" and "2" at the same instant, through two web processes, while a
worker, the scheduler and the callbacks worker are SIGKILLed and Redis crashes and comes
back (``config/redis.conf``: ``appendfsync always``). Twilio redelivers, with the same
MessageSid and idempotency token, every text that got no 200, and now and then delivers
one twice at once.

Each number has one open question (its booking confirmation asked). Its texts come in
rounds: a "1" and a "2" posted together (to the two web processes), the next round only
once both were answered. Once everything settled:

- each appointment has exactly one stored answer; the callback log's last response for
  it is that answer, and no two in a row are the same (a repeat tells nothing);
- the booking system, keeping per appointment the response callback with the highest
  ``sequence`` (the README's rule), holds the stored answer, every callback signed;
- no answer is lost whose text got a 200: during its round, the stored answer was, at
  some moment, that answer (it was already, or a response logged in the round made it
  so), and a round logs at most one response per text;
- delivering every text once more changes nothing in Redis and gets an empty answer.

The run takes about 30 s (16 numbers, 12 rounds each, about 650 deliveries). Its seed is
printed; ``NOTIFIER_FAULTS_SEED`` replays the draws (not the timing).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis

from notifier.callbacks.events import callback_events
from notifier.domain import Lang
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.names import CALLBACK_QUEUE, INTAKE_QUEUE, SEND_QUEUE
from notifier.responses import OpenQuestion
from notifier.responses.replies import ResponseReply, render_response_reply
from notifier.settings import Settings
from notifier.store.callback_log import CallbackLog, LogEntry
from notifier.store.keys import Keys
from notifier.store.responses import ResponseStore
from tests.factories import ZONE, event
from tests.fakes.incoming_texts import Delivery, IncomingText, IncomingTexts
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio, rebase
from tests.fakes.webhook_receiver import FakeReceiver
from tests.faults.conftest import (
    API_TOKEN,
    PUBLIC,
    SMS_FROM,
    add_callback_receiver,
    gateway_config,
    run_seed,
)
from tests.faults.injector import DurableRedis, Fault, Injector
from tests.faults.workload import Timing
from tests.harness import Processes, wait_until

pytestmark = pytest.mark.slow

NUMBERS = 16
ROUNDS = 12
ROUND_GAP = (0.3, 1.3)  # seconds between a number's rounds
DOUBLE_DELIVERY = 0.25  # the share of texts Twilio delivers twice at once
REDELIVERY_WAIT = 0.3  # seconds before Twilio delivers again a text that got no 200
PATIENCE = 45.0  # seconds a text may take, redeliveries included
FAULTS = [  # seconds after the first round
    Fault(1.0, "kill worker"), Fault(3.0, "kill scheduler"),
    Fault(5.0, "crash redis", seconds=1.5), Fault(8.0, "kill worker-callbacks"),
]
WORKER_THREADS = 2
# The callback log moves an id a millisecond on when a thousand share one: never here.
LOG_ID_SLACK_MS = 5
SETTLE = 60.0  # seconds for the callbacks to settle once the texts are answered
RESPONSE_TYPES = ("appointment.patient_confirmed", "appointment.patient_declined")
WORDS = {"confirmed": "1", "declined": "2"}
LOCATION = {**SAMPLE_LOCATION.model_dump(mode="json"), "cancellation_notice_minutes": 60,
            "patient_responses": {"channels": ["sms"], "ask_in_confirmation": True}}


@dataclass
class Text:
    """One answer a number sends, and every delivery of it."""

    answer: str
    text: IncomingText
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return any(d.ok for d in self.deliveries)


@dataclass
class Round:
    """A number's "1" and "2", sent together."""

    texts: list[Text]

    @property
    def window_ms(self) -> tuple[int, int]:
        """From the first delivery's start to the last one's end, epoch milliseconds: a
        response the round logged has its log id in it (an id is at least the clock of
        the request that wrote it, read after the delivery left, and at most the moment
        it was written, give or take the log's own millisecond steps)."""
        deliveries = [d for t in self.texts for d in t.deliveries]
        return (math.floor(min(d.started for d in deliveries) * 1000),
                math.ceil(max(d.ended for d in deliveries) * 1000) + LOG_ID_SLACK_MS)


@dataclass
class Patient:
    """One number, its appointment and question, and its rounds."""

    number: str
    reference: str
    lang: str
    question: OpenQuestion | None = None
    rounds: list[Round] = field(default_factory=list)


class Twilio:
    """Delivers texts as Twilio does, to either web process: again after anything but a
    200 (same MessageSid and idempotency token), within ``PATIENCE``."""

    def __init__(self, texts: IncomingTexts, web_urls: list[str]) -> None:
        self.texts = texts
        self.web_urls = web_urls

    def deliver_until_answered(self, text: Text, web: int) -> None:
        deadline = time.time() + PATIENCE
        while True:
            delivery = self.texts.deliver(text.text, gateway_url=self.web_urls[web])
            text.deliveries.append(delivery)
            if delivery.ok or time.time() >= deadline:
                return
            time.sleep(REDELIVERY_WAIT)
            web = 1 - web  # behind a load balancer, the next try may reach the other one


def run_round(twilio: Twilio, patient: Patient, rng: random.Random) -> Round:
    """"1" and "2" together, one to each web process (the order drawn), some delivered
    twice at once; returns once every delivery got its answer."""
    answers = ["confirmed", "declined"]
    rng.shuffle(answers)
    texts = [Text(a, IncomingTexts.new(patient.number, WORDS[a])) for a in answers]
    jobs = [(text, web) for web, text in enumerate(texts)]
    jobs += [(text, 1 - web) for web, text in enumerate(texts) if rng.random() < DOUBLE_DELIVERY]
    start = threading.Barrier(len(jobs))

    def deliver(text: Text, web: int) -> None:
        start.wait()
        twilio.deliver_until_answered(text, web)

    threads = [threading.Thread(target=deliver, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Round(texts)


def converse(twilio: Twilio, patient: Patient, seed: int, failures: list[str]) -> None:
    rng = random.Random(seed)
    try:
        for _ in range(ROUNDS):
            patient.rounds.append(run_round(twilio, patient, rng))
            time.sleep(rng.uniform(*ROUND_GAP))
    except Exception as error:  # reported by the test
        failures.append(f"{patient.reference}: {error!r}")


def log_entries(client: redis.Redis, keys: Keys) -> Iterator[LogEntry]:
    """The callback log, oldest first."""
    log = CallbackLog(client, keys=keys)
    after = None
    while entries := log.read(after=after, count=1000):
        yield from entries
        after = entries[-1].id


def response_entries(client: redis.Redis, keys: Keys) -> dict[str, list[LogEntry]]:
    """The callback log's patient responses, per appointment, in the log's order."""
    found: dict[str, list[LogEntry]] = {}
    for entry in log_entries(client, keys):
        if entry.fields["type"] in RESPONSE_TYPES:
            found.setdefault(entry.fields["reference"], []).append(entry)
    return found


def owed_ids(client: redis.Redis, keys: Keys) -> set[str]:
    """The ids of every callback the log owes the booking system."""
    return {str(e["id"]) for entry in log_entries(client, keys) for e in callback_events(entry)}


def answer_state(client: redis.Redis, keys: Keys) -> dict[bytes, bytes | None]:
    """What an answer may write: responses, questions, the texts' markers and reply counts,
    the texts needing a human and the callback log, dumped."""
    names = [keys.callback_log, keys.replies_needing_human]
    for pattern in ("response:*", "questions:*", "inbound:*"):
        names += [n.decode() for n in client.scan_iter(f"{keys.prefix}:{pattern}")]
    return {name.encode(): client.dump(name) for name in sorted(names)}


@dataclass
class Gateway:
    """The running gateway, its Redis and the booking system's receiver."""

    durable: DurableRedis
    settings: Settings
    client: redis.Redis
    keys: Keys
    processes: Processes
    web_urls: list[str]
    receiver: FakeReceiver


@pytest.fixture
def gateway(fake_twilio: FakeTwilio, fake_smtp: FakeSmtp, tmp_path: Path) -> Iterator[Gateway]:
    durable = DurableRedis(tmp_path / "redis")
    durable.start()
    config = gateway_config(durable.url, fake_twilio, fake_smtp, tmp_path / "outbox", Timing())
    config = config.with_values(keyword_reply_limit=100)  # every answer is answered
    client = redis.Redis.from_url(durable.url)
    receiver = add_callback_receiver(client, config, [])
    receiver.__enter__()
    processes = Processes(config, workdir=tmp_path / "processes")
    try:
        processes.start_worker(threads=WORKER_THREADS, queues=(INTAKE_QUEUE, SEND_QUEUE))
        processes.start_worker("worker-callbacks", threads=WORKER_THREADS,
                               queues=(CALLBACK_QUEUE,))
        processes.start_scheduler()
        webs = [processes.start_web(), processes.start_web("web-2")]
        web_urls = [f"http://127.0.0.1:{web.port}" for web in webs]
        fake_twilio.deliver_to = rebase(PUBLIC, web_urls[0])
        yield Gateway(durable, config.settings(), client, processes.keys, processes, web_urls,
                      receiver)
    finally:
        try:
            processes.close()
        finally:
            receiver.stop()
            client.close()
            durable.stop()


def book(gateway: Gateway, patients: list[Patient]) -> None:
    """Each patient's appointment, booked through the web process; returns once every
    confirmation opened its question."""
    now = dt.datetime.now(dt.UTC)
    start = (now + dt.timedelta(days=2)).replace(microsecond=0).astimezone(ZONE)
    with httpx.Client(base_url=gateway.web_urls[0], timeout=10,
                      headers={"Authorization": f"Bearer {API_TOKEN}"}) as http:
        for patient in patients:
            body = event("booked", start=start, at=now, reference=patient.reference,
                         location=LOCATION, modes=("sms",), language=patient.lang,
                         patient={"mobile_phone": patient.number}).model_dump(mode="json")
            answer = http.post("/v1/events", json=body)
            assert answer.status_code == 202, answer.text
    store = ResponseStore(gateway.client, gateway.settings)

    def asked() -> int:
        for patient in patients:
            if patient.question is None:
                found = store.questions(patient.number).questions
                patient.question = found[0] if found else None
        return sum(patient.question is not None for patient in patients)

    wait_until(lambda: asked() == len(patients), timeout=60,
               what="every confirmation to open its question", hint=lambda: f"{asked()} open")


def race(gateway: Gateway, texts: IncomingTexts, patients: list[Patient], rng: random.Random,
         *, twilio: FakeTwilio, smtp: FakeSmtp) -> Injector:
    """Every patient's rounds, all numbers at once, with :data:`FAULTS` injected from the
    first round; returns the injector, done."""
    failed, failures = threading.Event(), list[str]()
    t0 = time.time() + 0.2
    injector = Injector(FAULTS, t0=t0, processes=gateway.processes, durable=gateway.durable,
                        twilio=twilio, smtp=smtp, failed=failed, worker_threads=WORKER_THREADS)
    delivering = Twilio(texts, gateway.web_urls)
    threads = [threading.Thread(target=converse,
                                args=(delivering, patient, rng.getrandbits(32), failures))
               for patient in patients]
    threading.Event().wait(max(0.0, t0 - time.time()))
    injector.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    injector.join(timeout=60)
    assert not injector.is_alive() and injector.error is None, injector.error
    assert failures == [], failures
    return injector


def settle(gateway: Gateway) -> None:
    """Wait until the booking system got every callback the log owes it."""
    client, keys = gateway.client, gateway.keys

    def settled() -> bool:
        return (gateway.processes.queue_settled(CALLBACK_QUEUE)
                and client.zcard(keys.callbacks_due) + client.zcard(keys.callbacks_claimed) == 0
                and owed_ids(client, keys) <= {r.headers.get("webhook-id")
                                               for r in gateway.receiver.received})

    wait_until(settled, timeout=SETTLE, what="every callback owed to reach the booking system",
               poll=0.5)


@dataclass
class BookingSystem:
    """What the booking system made of the response callbacks, per appointment.

    Parameters:
      kept: the response with the highest ``sequence`` (the README's rule).
      arrived_last: the response that arrived last.
      answered_last: the response with the latest ``answered_at``.
    """

    kept: dict[str, str] = field(default_factory=dict)
    arrived_last: dict[str, str] = field(default_factory=dict)
    answered_last: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, receiver: FakeReceiver) -> BookingSystem:
        view = cls()
        sequences: dict[str, int] = {}
        times: dict[str, dt.datetime] = {}
        for received in receiver.received:
            body = json.loads(received.body)
            if body["type"] not in RESPONSE_TYPES:
                continue
            data = body["data"]
            reference, response = data["reference"], data["response"]
            view.arrived_last[reference] = response
            if data["sequence"] > sequences.get(reference, -1):
                sequences[reference], view.kept[reference] = data["sequence"], response
            answered_at = dt.datetime.fromisoformat(data["answered_at"])
            if reference not in times or answered_at >= times[reference]:
                times[reference], view.answered_last[reference] = answered_at, response
        return view


def test_racing_answers_leave_one_answer_that_the_callbacks_agree_with(
    gateway: Gateway, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
) -> None:
    began = time.time()
    seed = run_seed()
    print(f"\nanswer races: seed {seed} (NOTIFIER_FAULTS_SEED={seed} replays its draws)")
    rng = random.Random(seed)
    patients = [Patient(f"+1438555{index:04d}", f"95{index:08d}", rng.choice(("fr", "en")))
                for index in range(NUMBERS)]
    book(gateway, patients)
    client, keys = gateway.client, gateway.keys
    with IncomingTexts(fake_twilio, gateway_url=gateway.web_urls[0], public_base_url=PUBLIC,
                       to=SMS_FROM) as texts:
        raced = time.time()
        injector = race(gateway, texts, patients, rng, twilio=fake_twilio, smtp=fake_smtp)
        raced = time.time() - raced
        settle(gateway)

        # Twilio delivers every text once more: nothing changes, nothing is answered.
        before = answer_state(client, keys)
        every_text = [t.text for p in patients for r in p.rounds for t in r.texts]
        replays = [texts.deliver(text, gateway_url=gateway.web_urls[index % 2])
                   for index, text in enumerate(every_text)]
        assert {(d.status, d.reply) for d in replays} == {(200, None)}
        assert answer_state(client, keys) == before, "a duplicate wrote something"

    store = ResponseStore(client, gateway.settings)
    logged = response_entries(client, keys)
    assert all(r.verified for r in gateway.receiver.received)
    booking_system = BookingSystem.of(gateway.receiver)
    problems: list[str] = []
    stats: Counter[str] = Counter()
    for patient in patients:
        reference = patient.reference
        entries = logged.get(reference, [])
        answers = [e.fields["response"] for e in entries]
        stored = store.response(reference)
        held = None if stored is None else str(stored.answer)
        if held is None or answers[-1:] != [held]:
            problems.append(f"{reference}: stored {held}, logged {answers}")
        if any(a == b for a, b in itertools.pairwise(answers)):
            problems.append(f"{reference}: a repeat was logged: {answers}")
        if booking_system.kept.get(reference) != held:
            problems.append(f"{reference}: stored {held}, the booking system keeps "
                            f"{booking_system.kept.get(reference)}")
        stats["last to arrive not the stored answer"] += (
            booking_system.arrived_last.get(reference) != held)
        stats["latest answered_at not the stored answer"] += (
            booking_system.answered_last.get(reference) != held)
        problems += lost_answers(patient, entries, stats)
        problems += wrong_replies(patient, gateway.settings, stats)

    deliveries = [d for p in patients for r in p.rounds for t in r.texts for d in t.deliveries]
    statuses = Counter(str(d.status) for d in deliveries)
    print(f"answer races: {len(patients)} numbers x {ROUNDS} rounds, {len(every_text)} "
          f"texts, {len(deliveries)} deliveries {dict(statuses)}; responses logged "
          f"{sum(len(v) for v in logged.values())}; callbacks received "
          f"{len(gateway.receiver.received)}; {dict(stats)}; raced {raced:.1f}s, test took "
          f"{time.time() - began:.1f}s\n  " + "\n  ".join(injector.tally.log))
    assert not problems, "\n".join(problems[:40])
    output = gateway.processes.output()
    assert "incoming sms" in output  # the web processes' logs are there to read
    assert not [p.reference for p in patients if p.number[2:] in output], "a log names a number"


def lost_answers(patient: Patient, entries: list[LogEntry], stats: Counter[str]) -> list[str]:
    """Texts that got a 200 whose answer was never the stored one during their round, and
    rounds that logged more than one response per text."""
    problems = []
    placed = 0
    prior: str | None = None
    for index, round_ in enumerate(patient.rounds):
        first, last = round_.window_ms
        inside = [e for e in entries if first <= int(e.id.split("-")[0]) <= last]
        placed += len(inside)
        held = {prior, *(e.fields["response"] for e in inside)}
        for text in round_.texts:
            if text.answered and text.answer not in held:
                problems.append(f"{patient.reference} round {index}: {text.answer} got a 200 "
                                f"and was lost (held {held})")
            if len(text.deliveries) > 1:
                stats["texts delivered more than once"] += 1
            if text.answered and not any(d.ok and d.reply for d in text.deliveries):
                stats["texts answered only by an empty 200"] += 1
        if len(inside) > len(round_.texts):
            problems.append(f"{patient.reference} round {index}: {len(inside)} responses "
                            "logged for two texts")
        if inside:
            prior = inside[-1].fields["response"]
    if placed != len(entries):
        problems.append(f"{patient.reference}: {len(entries) - placed} responses logged "
                        "outside every round")
    return problems


def wrong_replies(patient: Patient, settings: Settings, stats: Counter[str]) -> list[str]:
    """A 200 must answer the text's own answer, or nothing for a duplicate."""
    assert patient.question is not None
    expected = {
        answer: render_response_reply(kind, Lang(patient.lang), settings,
                                      questions=(patient.question,))
        for answer, kind in (("confirmed", ResponseReply.CONFIRMED),
                             ("declined", ResponseReply.DECLINED))
    }
    problems = []
    for round_ in patient.rounds:
        for text in round_.texts:
            for delivery in text.deliveries:
                if not delivery.ok:
                    continue
                if delivery.reply is None:
                    stats["empty 200s (duplicates)"] += 1
                elif delivery.reply != expected[text.answer]:
                    problems.append(f"{patient.reference}: {text.answer} was answered "
                                    f"{delivery.reply!r}")
    return problems
