"""Benchmark: a patient's answer ("1", "2") through the inbound SMS webhook while Redis
holds --questions open questions, next to a bare endpoint of the same app (GET /healthz)
measured in the same run, one web process.

The private Redis first holds --questions open questions, one per number, packed as the
send step stores them (one small hash per number), and --active appointments booked
through the real intake with patient responses on, each with its question open to its
own number. Every request is a signed webhook from one of the active numbers, each number
answering "1" then "2" then "1"... so that every answer changes the stored one: the
webhook reads the number's questions and the appointment, then records the answer and its
callback in one script (the costliest path; a repeat writes nothing). Also printed: Redis
memory per open question.

    PYTHONPATH=. python bench/reply_bench.py                      # 1,000,000 questions
    PYTHONPATH=. python bench/reply_bench.py --questions 100000 --requests 5000
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import itertools
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis
from twilio.request_validator import RequestValidator

from bench.http_load import ROOT, Request, compare, web_process
from bench.webhook_bench import AUTH_TOKEN, PATH, PUBLIC_BASE_URL, signed_text
from notifier.domain import Channel
from notifier.local_redis import running_redis
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.planning.entries import AppointmentState
from notifier.responses import plan_question, question_for
from notifier.settings import Settings
from notifier.store.intake import Intake
from notifier.store.responses import ResponseStore
from tests.factories import event

REDIS_CONF = ROOT / "config" / "redis.conf"
ASKING = {**SAMPLE_LOCATION.model_dump(mode="json"), "patient_responses": {}}
BATCH = 10_000


def active_number(n: int) -> str:
    return f"+1514{5000000 + n:07d}"


def background_number(n: int) -> str:
    return f"+1438{n:07d}"


def seed(url: str, *, questions: int, active: int, now: dt.datetime) -> float:
    """``active`` appointments booked with their question open, and as many other open
    questions as make ``questions`` in all; returns Redis bytes per open question."""
    client = redis.Redis.from_url(url)
    settings = Settings(redis_url=url)
    store = ResponseStore(client, settings)
    intake = Intake(client, settings)
    start = now + dt.timedelta(days=2)
    sample: AppointmentState | None = None
    for n in range(active):
        reference = f"{n:010d}"
        intake.accept(event("booked", start=start, at=now, reference=reference, modes=("sms",),
                            location=ASKING, patient={"mobile_phone": active_number(n)}), now)
        state = intake.load(reference)
        assert state is not None
        sample = state
        plan = plan_question(reference, state.appointment.location, [], now)
        question = question_for(state, plan, channel=Channel.SMS,
                                send_key=f"{reference}:reminder:sms:86400", now=now)
        client.hset(store.questions_key(active_number(n)), reference, question.packed())
    assert sample is not None
    before = int(client.info("memory")["used_memory"])
    template = question_for(sample, plan_question("0", sample.appointment.location, [], now),
                            channel=Channel.SMS, send_key="", now=now)
    ttl = int((start - now).total_seconds()) + 3600
    for first in range(0, questions - active, BATCH):
        with client.pipeline(transaction=False) as pipe:
            for n in range(first, min(first + BATCH, questions - active)):
                reference = f"9{n:09d}"
                key = store.questions_key(background_number(n))
                packed = dataclasses.replace(
                    template, reference=reference,
                    send_key=f"{reference}:reminder:sms:86400").packed()
                pipe.hset(key, reference, packed)
                pipe.expire(key, ttl)
            pipe.execute()
    after = int(client.info("memory")["used_memory"])
    client.close()
    return (after - before) / max(questions - active, 1)


def answer_requests(count: int, *, active: int) -> Iterator[Request]:
    """Signed webhook calls: number n % active answers, "1" and "2" in turn."""
    validator = RequestValidator(AUTH_TOKEN)
    for n in range(count):
        yield signed_text(validator, n, sender=active_number(n % active),
                          body="1" if (n // active) % 2 == 0 else "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=int, default=1_000_000, help="open in Redis")
    parser.add_argument("--active", type=int, default=1000,
                        help="numbers that answer (each has its appointment stored)")
    parser.add_argument("--requests", type=int, default=3000, help="per measure")
    parser.add_argument("--threads", type=int, default=8, help="clients for the throughput run")
    parser.add_argument("--no-conf", action="store_true",
                        help="plain redis-server instead of config/redis.conf (appendfsync)")
    args = parser.parse_args()

    now = dt.datetime.now(dt.UTC)
    extra = () if args.no_conf else (str(REDIS_CONF),)
    with tempfile.TemporaryDirectory() as scratch, \
            running_redis(Path(scratch), extra_args=extra) as redis_server:
        began = time.perf_counter()
        per_question = seed(redis_server.url, questions=args.questions, active=args.active,
                            now=now)
        print(f"seeded {args.questions:,} open questions ({args.active:,} answering numbers) "
              f"in {time.perf_counter() - began:.1f} s; Redis memory per open question "
              f"{per_question:.0f} B")
        with web_process({
            "NOTIFIER_REDIS_URL": redis_server.url,
            "NOTIFIER_API_TOKEN": "bench-api-token-0123456789",
            "NOTIFIER_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "NOTIFIER_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "NOTIFIER_OUTBOX_DIR": str(Path(scratch) / "outbox"),
            # Every answer is answered: with the default daily cap (3), most would get
            # an empty answer after the third round.
            "NOTIFIER_KEYWORD_REPLY_LIMIT": "100",
        }) as base_url:
            print(f"uvicorn, 1 process, loopback; redis-server "
                  f"{'plain' if args.no_conf else 'with config/redis.conf (appendfsync always)'}"
                  f"; {args.requests:,} requests per measure, {args.threads} client threads")
            compare(base_url, (f"POST {PATH} (answers)",
                               functools.partial(answer_requests, active=args.active), 200),
                    requests=args.requests, threads=args.threads)
            check_answers(redis_server.url, args.active)


def check_answers(url: str, active: int) -> None:
    """The run measured answers, not refusals: every answering appointment holds one."""
    client = redis.Redis.from_url(url)
    store = ResponseStore(client, Settings(redis_url=url))
    answered = sum(store.response(f"{n:010d}") is not None for n in itertools.islice(
        range(active), 100))
    client.close()
    print(f"answers stored for {answered} of the first 100 answering appointments")
    if answered != min(active, 100):
        raise SystemExit("the webhook did not record the answers: the figures are not "
                         "those of the answer path")


if __name__ == "__main__":
    main()
