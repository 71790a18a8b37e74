"""The Dramatiq broker and the gateway's two actors.

- ``intake_event`` (queue ``intake``): the Dramatiq door for booking systems written in
  Python (see :mod:`notifier.event_sender`). Same contract as ``POST /v1/events``.
- ``send_message`` (queue ``send``): the send step, fed by the scheduler.

Actors are declared on an explicit broker (never Dramatiq's implicit default, which would
talk to whatever Redis runs on localhost).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Retries, TimeLimit
from pydantic import ValidationError
from redis import ConnectionError as RedisConnectionError
from redis import Redis
from redis import TimeoutError as RedisTimeoutError

from notifier.arrival import Arrival
from notifier.callbacks.delivery import CallbackDelivery
from notifier.channels.base import ChannelClient
from notifier.clock import utc_now
from notifier.crash_count import CrashCount
from notifier.destinations import destination_policy
from notifier.domain import Channel, Event
from notifier.errors import EventRefused, InvalidEventError, RetryLater
from notifier.names import (
    CALLBACK_ACTOR,
    CALLBACK_QUEUE,
    INTAKE_ACTOR,
    INTAKE_QUEUE,
    SEND_ACTOR,
    SEND_EXHAUSTED_ACTOR,
    SEND_QUEUE,
    broker_namespace,
)
from notifier.outage_broker import OutageTolerantRedisBroker, when_redis_answers
from notifier.problems import describe, summary
from notifier.send_summary import SendSummary, Tried
from notifier.sending import RATE_LIMIT_MAX_WAIT, SendOutcome, SendStep
from notifier.settings import Settings
from notifier.store.connect import connect_redis
from notifier.store.intake import Intake
from notifier.store.integrators import IntegratorStore
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutStore
from notifier.store.rate_limit import RateLimiter

log = logging.getLogger(__name__)

# A send that crashes (a bug, Redis gone for good) is retried a few times on Dramatiq's own
# backoff, then dead-lettered (``retries_exhausted``). A provider's failure is not a crash:
# the send step chooses its delay, re-checks the message's deadline, the appointment and
# the opt-outs on every try, and raises ``RetryLater``, handed to Dramatiq as its
# ``Retry``, which never counts against this budget (see ``_retry_send``; ``CrashCount``
# keeps it out of Dramatiq's count too), so an outage of hours cannot use it up.
SEND_MAX_RETRIES = 6
SEND_RETRIES: dict[str, Any] = {"min_backoff": 2_000, "max_backoff": 60_000}
CALLBACK_RETRIES: dict[str, Any] = {"max_retries": 5, "min_backoff": 1_000,
                                    "max_backoff": 60_000}
INTAKE_RETRIES: dict[str, Any] = {"max_retries": 10, "min_backoff": 1_000, "max_backoff": 60_000}


def broker_middleware() -> list[dramatiq.Middleware]:
    """The part of Dramatiq's default middleware the gateway uses, fresh instances.

    ``Retries`` carries every retry option the actors set (``max_retries``, backoffs,
    ``retry_when``, ``throws``, ``on_retry_exhausted``); ``TimeLimit`` stops a message that
    runs past ten minutes, whatever a provider or a bug does (the channel clients bound
    their own requests well below that). Left out, each a hook on every message for an
    option no actor sets: ``AgeLimit`` (``max_age``; the send step checks its deadline),
    ``ShutdownNotifications`` (``notify_shutdown``), ``Callbacks`` (``on_success``,
    ``on_failure``) and ``Pipelines`` (``pipe_target``).
    """
    return [TimeLimit(), Retries()]


def build_broker(
    settings: Settings, *, outage_wait: dt.timedelta | None = None,
    sleep: Callable[[float], None] = time.sleep, needed_by: str = "worker",
) -> RedisBroker:
    """The deployment's Dramatiq broker, on a client of :func:`connect_redis` (which
    follows a Sentinel failover). ``outage_wait``: for a worker, how long an enqueue (a
    retry falling due) waits for Redis to come back rather than failing."""
    options: dict[str, Any] = {
        "client": connect_redis(settings, needed_by=needed_by),
        "namespace": broker_namespace(settings.queue_prefix),
        "heartbeat_timeout": int(settings.worker_heartbeat_timeout.total_seconds() * 1000),
        "maintenance_chance": settings.broker_maintenance_chance,
        "middleware": broker_middleware(),
    }
    if outage_wait is None:
        return RedisBroker(**options)
    return OutageTolerantRedisBroker(outage_wait=outage_wait, sleep=sleep, **options)


@dataclass(frozen=True)
class Actors:
    intake: dramatiq.Actor[[dict[str, Any]], None]
    send: dramatiq.Actor[[dict[str, Any]], None]
    send_exhausted: dramatiq.Actor[[dict[str, Any], dict[str, Any]], None]
    callback: dramatiq.Actor[[str], None]
    # What the send actor's runs came to, one INFO line per interval.
    summary: SendSummary


# How long a worker waits for Redis to come back before giving up on a message in hand.
REDIS_OUTAGE_WAIT = dt.timedelta(seconds=60)


def _redis_back(
    redis: Redis, *, within: dt.timedelta, sleep: Callable[[float], None]
) -> bool:
    try:
        when_redis_answers(redis.ping, within=within, sleep=sleep)
    except (RedisConnectionError, RedisTimeoutError):
        return False
    return True


def _retry_send(retries: int, exception: BaseException) -> bool:
    # Retry is only raised when the next try will check the deadline again: a rate-limit
    # wait, an attempt in flight elsewhere, a provider failure, Redis back after an outage.
    return isinstance(exception, dramatiq.Retry) or retries < SEND_MAX_RETRIES


def _as_retry(later: RetryLater) -> dramatiq.Retry:
    """Dramatiq's retry for the send step's ``later``, at the delay it asked for. Counted
    or not, it is retried (``_retry_send``): the send step itself gives up at the
    message's deadline."""
    return dramatiq.Retry(str(later), delay=later.delay)


_TRIED = {
    SendOutcome.SENT: Tried.SENT, SendOutcome.SUPPRESSED: Tried.SUPPRESSED,
    SendOutcome.DEFERRED: Tried.DEFERRED, SendOutcome.ALREADY_DONE: Tried.ALREADY_DONE,
    SendOutcome.FAILED: Tried.FAILED,
}


def rate_limiters(settings: Settings) -> dict[Channel, RateLimiter]:
    """One shared timeline per Twilio sender (SMS) and per account (voice)."""
    keys = Keys(settings.queue_prefix)
    limiters: dict[Channel, RateLimiter] = {}
    if settings.sms_provider == "twilio":
        sender = settings.twilio_messaging_service_sid or settings.twilio_sms_from or ""
        limiters[Channel.SMS] = RateLimiter(
            keys.rate(f"sms:{sender}"), per_second=settings.sms_segments_per_second,
            max_wait=RATE_LIMIT_MAX_WAIT,
        )
    if settings.voice_provider == "twilio":
        limiters[Channel.VOICE] = RateLimiter(
            keys.rate(f"voice:{settings.twilio_account_sid}"),
            per_second=settings.voice_calls_per_second, max_wait=RATE_LIMIT_MAX_WAIT,
        )
    return limiters


def declare_actors(
    broker: dramatiq.Broker,
    settings: Settings,
    *,
    redis: Redis,
    channels: Mapping[Channel, ChannelClient],
    clock: Callable[[], dt.datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Actors:
    """Declare the actors on ``broker``, bound to one Redis client and set of channels.
    ``monotonic``: the clock of the send summary's interval
    (``settings.worker_summary_interval``)."""
    if not any(isinstance(middleware, CrashCount) and SEND_ACTOR in middleware.actors
               for middleware in broker.middleware):
        CrashCount(actors={SEND_ACTOR}).install(broker)
    intake = Intake(redis, settings)
    policy = destination_policy(settings)
    step = SendStep(redis, settings, channels=channels, opt_outs=OptOutStore(redis, settings),
                    limiters=rate_limiters(settings), clock=clock, sleep=sleep)
    sends = SendSummary(interval=settings.worker_summary_interval.total_seconds(),
                        clock=monotonic)

    def intake_event(event: dict[str, Any]) -> None:
        now = clock()
        try:
            parsed = Event.model_validate(event, context=Arrival(now, destinations=policy))
        except ValidationError as exc:
            problems = describe(exc)
            log.error("refused an event message: %s", summary(problems))
            raise InvalidEventError(problems) from None
        try:
            intake.accept(parsed, now)
        except EventRefused as refused:  # intake logged it, with the event id only
            raise InvalidEventError(refused.problems, message=refused.summary()) from None

    def send_message(payload: dict[str, Any]) -> None:
        tried = Tried.CRASHED
        try:
            tried = _TRIED[step(payload)]
        except RetryLater as later:
            tried = Tried.RETRIED
            raise _as_retry(later) from None
        except (RedisConnectionError, RedisTimeoutError):
            # Dramatiq could not enqueue a retry while Redis is down: the message would be
            # acknowledged and lost. Wait for Redis to come back, then ask for the retry;
            # the record left "submitting" makes it a counted, at-most-once resend.
            if not _redis_back(redis, within=REDIS_OUTAGE_WAIT, sleep=sleep):
                raise
            log.warning("Redis was unavailable during a send; retrying it")
            tried = Tried.RETRIED
            raise dramatiq.Retry("Redis was unavailable", delay=1_000) from None
        finally:
            sends.note(tried)

    def send_exhausted(message: dict[str, Any], retries: dict[str, Any]) -> None:
        step.exhausted(message["args"][0])

    deliver = CallbackDelivery(redis, settings, endpoints=IntegratorStore(redis, settings),
                               clock=clock)

    def deliver_callback(delivery: str) -> None:
        # A failed attempt is rescheduled on the gateway's own schedule, not retried by
        # Dramatiq: only a crash (Redis gone, a bug) is Dramatiq's to retry.
        deliver(delivery)

    return Actors(
        summary=sends,
        callback=dramatiq.Actor(
            deliver_callback, broker=broker, actor_name=CALLBACK_ACTOR,
            queue_name=CALLBACK_QUEUE, priority=0, options={**CALLBACK_RETRIES},
        ),
        intake=dramatiq.Actor(
            intake_event, broker=broker, actor_name=INTAKE_ACTOR, queue_name=INTAKE_QUEUE,
            priority=0, options={**INTAKE_RETRIES, "throws": (InvalidEventError,)},
        ),
        send_exhausted=dramatiq.Actor(
            send_exhausted, broker=broker, actor_name=SEND_EXHAUSTED_ACTOR,
            queue_name=SEND_QUEUE, priority=0, options={"max_retries": 3},
        ),
        send=dramatiq.Actor(
            send_message, broker=broker, actor_name=SEND_ACTOR, queue_name=SEND_QUEUE,
            priority=0, options={**SEND_RETRIES, "retry_when": _retry_send,
                                 "on_retry_exhausted": SEND_EXHAUSTED_ACTOR},
        ),
    )
