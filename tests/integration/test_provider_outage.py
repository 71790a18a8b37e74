"""Twilio down for hours, under an injected clock: the send step against the real twilio
client, the loopback Twilio and a real Redis keeps trying on growing delays, creates and
look-ups alike, until the message's deadline; it sends exactly once when Twilio comes back,
and gives the message up (``past_deadline``) only at its deadline."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import dramatiq
import pytest

from notifier.actors import SEND_MAX_RETRIES, _as_retry, _retry_send
from notifier.backoff import JITTER, MAX_DELAY
from notifier.channels.registry import channel_clients
from notifier.errors import RetryLater
from notifier.sending import SendOutcome, SendStep
from notifier.store.optouts import OptOutStore
from tests.factories import event
from tests.fakes.conftest_fixtures import fake_smtp, fake_twilio
from tests.fakes.twilio_server import Outcome
from tests.integration.test_delivery import START, Delivery, delivery, web_port

__all__ = ["delivery", "fake_smtp", "fake_twilio", "web_port"]  # fixtures

OUTAGE = dt.timedelta(hours=3)
TIMEOUT = dt.timedelta(seconds=0.2)  # the client's: a held answer costs the test this much


@dataclass(frozen=True)
class Failure:
    """How Twilio fails: ``first`` answers the create, ``outage`` every request after it
    (creates and look-ups); ``looked_up``: the create's fate is unknown, so the tries
    after it are look-ups."""

    name: str
    first: Outcome
    outage: Outcome
    looked_up: bool


HELD = Outcome.timeout(3, accepted=False)
FAILURES = [
    Failure("429 to everything", Outcome.too_many_requests(), Outcome.too_many_requests(),
            looked_up=False),
    Failure("500 to everything", Outcome.server_error(500), Outcome.server_error(500),
            looked_up=True),
    Failure("503 to everything", Outcome.server_error(503), Outcome.server_error(503),
            looked_up=True),
    Failure("no answer to anything", HELD, HELD, looked_up=True),
    Failure("a held create, then 429 to the look-ups", HELD, Outcome.too_many_requests(),
            looked_up=True),
]


@dataclass
class Tries:
    """What the tries did: the delay each asked for, and how the last one ended."""

    delays: list[dt.timedelta]
    outcome: SendOutcome | None


def keep_trying(step: SendStep, delivery: Delivery, payload: dict[str, object],
                *, until: Callable[[], bool]) -> Tries:
    """Run the step as the worker would: each retry after the delay it asked for, until it
    ends or ``until()``."""
    delays: list[dt.timedelta] = []
    while not until():
        try:
            return Tries(delays, step(payload))
        except RetryLater as retry:
            assert retry.delay is not None
            delays.append(dt.timedelta(milliseconds=retry.delay))
            delivery.clock.advance(delays[-1])
    return Tries(delays, None)


def growing(delays: list[dt.timedelta]) -> bool:
    """Each delay longer than the one before, until they reach the cap (give or take the
    jitter), and never past it."""
    capped = MAX_DELAY * (1 - JITTER)
    return all(
        later <= MAX_DELAY and (later > earlier or later >= capped)
        for earlier, later in itertools.pairwise(delays)
    )


def short_timeout_step(delivery: Delivery) -> SendStep:
    settings = delivery.settings.model_copy(update={"twilio_timeout": TIMEOUT})
    return SendStep(delivery.client, settings,
                    channels=channel_clients(settings, clock=delivery.clock,
                                             redis=delivery.client),
                    opt_outs=OptOutStore(delivery.client, settings), limiters={},
                    clock=delivery.clock)


def tries_made(delivery: Delivery) -> int:
    return len(delivery.fake.requests) + len(delivery.fake.lookups)


@pytest.mark.parametrize("failure", FAILURES, ids=[f.name for f in FAILURES])
def test_a_message_waits_out_hours_of_outage_and_is_sent_once_when_twilio_is_back(
    delivery: Delivery, failure: Failure,
) -> None:
    step = short_timeout_step(delivery)
    (payload,) = delivery.book("sms")
    delivery.fake.script_messages(failure.first)
    delivery.fake.fail_all(failure.outage)
    back_at = delivery.clock() + OUTAGE

    during = keep_trying(step, delivery, payload, until=lambda: delivery.clock() >= back_at)
    assert during.outcome is None, "given up while Twilio was down"
    assert delivery.record(payload)["status"] in ("submitting", "retrying")
    assert delivery.fake.messages == []
    assert len(during.delays) == tries_made(delivery) > OUTAGE / MAX_DELAY
    assert growing(during.delays), during.delays
    assert during.delays[-1] >= MAX_DELAY * (1 - JITTER)
    if failure.looked_up:  # one create, then only look-ups: never a blind resend
        assert len(delivery.fake.requests) == 1
        assert len(delivery.fake.lookups) == len(during.delays) - 1

    delivery.fake.reset()  # Twilio is back
    assert step(payload) is SendOutcome.SENT

    (taken,) = delivery.fake.messages
    record = delivery.record(payload)
    assert record["status"] == "accepted" and record["provider_id"] == taken.sid
    assert record["failures"] == str(len(during.delays))
    assert record.get("ambiguous") == ("1" if failure.looked_up else None)


def test_a_create_twilio_took_before_hours_of_5xx_is_found_not_sent_again(
    delivery: Delivery,
) -> None:
    (payload,) = delivery.book("sms")
    delivery.fake.script_messages(Outcome.server_error(500, accepted=True))
    delivery.fake.fail_all(Outcome.server_error(500))
    back_at = delivery.clock() + OUTAGE

    during = keep_trying(delivery.step, delivery, payload,
                         until=lambda: delivery.clock() >= back_at)
    delivery.fake.reset()

    assert during.outcome is None and growing(during.delays)
    assert delivery.step(payload) is SendOutcome.SENT
    (taken,) = delivery.fake.messages
    assert delivery.record(payload)["provider_id"] == taken.sid
    assert "ambiguous" not in delivery.record(payload)


@pytest.mark.parametrize("failure", FAILURES, ids=[f.name for f in FAILURES])
def test_an_outage_past_the_deadline_gives_the_message_up_at_its_deadline(
    delivery: Delivery, failure: Failure,
) -> None:
    step = short_timeout_step(delivery)
    (payload,) = delivery.book("sms")
    deadline = START  # a confirmation is worth sending until the appointment starts
    delivery.clock.set(deadline - OUTAGE)
    delivery.fake.script_messages(failure.first)
    delivery.fake.fail_all(failure.outage)

    tries = keep_trying(step, delivery, payload, until=lambda: False)

    assert tries.outcome is SendOutcome.FAILED
    record = delivery.record(payload)
    assert (record["status"], record["reason"]) == ("failed", "past_deadline")
    assert growing(tries.delays) and len(tries.delays) > OUTAGE / MAX_DELAY
    # It tried until its next try would have come at or after the deadline.
    assert deadline - MAX_DELAY <= delivery.clock() < deadline
    assert tries_made(delivery) == len(tries.delays) + 1
    assert delivery.fake.messages == []


def test_each_try_during_an_outage_still_checks_the_appointment(delivery: Delivery) -> None:
    (payload,) = delivery.book("sms")
    delivery.fake.fail_all(Outcome.server_error(500))
    an_hour_later = delivery.clock() + dt.timedelta(hours=1)
    keep_trying(delivery.step, delivery, payload, until=lambda: delivery.clock() >= an_hour_later)

    now = delivery.clock()
    delivery.intake.accept(event("cancelled", version=2, start=START, at=now, modes=("sms",)),
                           now)
    delivery.fake.reset()

    assert delivery.step(payload) is SendOutcome.SUPPRESSED
    assert delivery.record(payload)["reason"] == "cancelled"
    assert delivery.fake.messages == []


def test_dramatiq_never_gives_up_a_retry_the_send_step_asked_for() -> None:
    """Only the send step's deadline ends its retries; a crash still has a budget."""
    assert _retry_send(10_000, dramatiq.Retry("ambiguous failure 20500", delay=300_000))
    assert _retry_send(SEND_MAX_RETRIES - 1, RuntimeError("a bug"))
    assert not _retry_send(SEND_MAX_RETRIES, RuntimeError("a bug"))


def test_the_send_actor_hands_the_step_s_retry_to_dramatiq_at_its_delay() -> None:
    retry = _as_retry(RetryLater("transient failure 20500", delay=20_000, counted=True))
    assert isinstance(retry, dramatiq.Retry)
    assert (str(retry), retry.delay) == ("transient failure 20500", 20_000)
    assert _retry_send(10_000, retry)
