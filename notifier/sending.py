"""The send step: decide late, check again, then hand one message to its channel.

Runs inside the ``send_message`` Dramatiq actor. The appointment is re-read when the
message leaves; a message that is no longer true, or for a number that opted out, is
suppressed with its reason. The delivery log makes a redelivered Dramatiq message harmless.
A try that must happen again later raises :class:`~notifier.errors.RetryLater`, which the
actor hands to Dramatiq as its retry.

Provider failures (see :class:`~notifier.errors.FailureClass`):

- transient: tried again later;
- permanent: stopped and recorded (Twilio 21610 also records the opt-out);
- configuration: stopped, recorded and logged as an error for the operator;
- ambiguous (a timeout or 5xx on a create: the message may have gone): the record stays
  ``submitting`` and the message is tried again later. A worker killed mid-send leaves
  the record ``submitting`` too, and its redelivery is treated the same way.

"Later" follows :func:`notifier.backoff.retry_delay`: delays that grow with the record's
``failures`` (every failed create or look-up counts), capped at a few minutes, never
sooner than a ``Retry-After``. A message keeps trying until its own deadline, however
long the provider is down: it is given up (``past_deadline``) only when its next try
would fall at or after that deadline. Every try re-reads the appointment and the
opt-outs first, so a cancellation, an ARRET or a closed window still stops it.

An attempt that finds its record ``submitting`` follows an interrupted one, and first asks
the provider whether that one reached it (:meth:`ChannelClient.find_sent`): if so, the
message is recorded as handed over with the provider's id, and nothing is sent again; if
the provider holds no such message, it is sent again, and the record's ``ambiguous``
field counts that resend; if the provider cannot be asked right now, the message waits
(on the same growing delays) and asks again, neither sent twice nor given up before its
deadline. A provider that can never be asked (an SMTP relay) gets at most
``AMBIGUOUS_RETRIES`` blind resend(s): we prefer a rare, counted duplicate email to a
silently lost one, and give up (``interrupted``) after that.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from notifier.backoff import retry_delay
from notifier.channels.base import ChannelClient, Receipt
from notifier.delivery_status import HANDED_OVER, DeliveryStatus
from notifier.domain import Channel
from notifier.errors import CannotTell, DeliveryError, FailureClass, RetryLater, SmsOverBudget
from notifier.fallback_triggers import classify_failure
from notifier.messages.catalogue import Rendered, ResponsePrompt, asks_question, render
from notifier.opt_outs import OptOutSource
from notifier.planning.entries import AppointmentState, PlannedMessage
from notifier.planning.fallback import NOTHING, Next, Verdict
from notifier.planning.reasons import Reason
from notifier.planning.send_check import NO_FACTS, Defer, Drop, FallbackFacts, decide_at_send
from notifier.privacy import mask_address
from notifier.responses import (
    QuestionPlan,
    answered_as_is,
    asks,
    plan_question,
    question_for,
    reminders_skipped,
    standing,
)
from notifier.settings import Settings
from notifier.store.deliveries import DeliveryLog
from notifier.store.fallbacks import Failure, Fallbacks
from notifier.store.history import History
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutCheck
from notifier.store.provider_latency import ProviderLatency
from notifier.store.rate_limit import RateLimiter
from notifier.store.redis_store import Redis
from notifier.store.replication import Replication
from notifier.store.responses import QuestionOpening, ResponseStore
from notifier.store.schedule import Schedule
from notifier.store.send_records import Check, SendRecords
from notifier.store.usage import usage_of

log = logging.getLogger(__name__)

AMBIGUOUS_RETRIES = 1
ATTEMPT_LOCK_RETRY_MS = 5_000
RATE_LIMIT_MAX_WAIT = dt.timedelta(seconds=5)
# The failures that stop a message at once, and the reason its record gives.
_STOPPED_BY = {
    FailureClass.PERMANENT: Reason.PROVIDER_PERMANENT,
    FailureClass.CONFIGURATION: Reason.PROVIDER_CONFIGURATION,
}


def attempt_lock(client: ChannelClient) -> dt.timedelta:
    """How long one attempt holds its message: longer than it can legitimately last (a
    rate-limit wait, then the client's own :attr:`~ChannelClient.attempt_bound`). A worker
    killed mid-send leaves the lock to lapse; only then is its message tried again, so a
    short provider timeout also brings an interrupted message back sooner."""
    return RATE_LIMIT_MAX_WAIT + client.attempt_bound


class SendOutcome(enum.StrEnum):
    SENT = "sent"
    SUPPRESSED = "suppressed"
    DEFERRED = "deferred"
    ALREADY_DONE = "already_done"
    FAILED = "failed"


class OptOuts(Protocol):
    def send_check(self, number: str, channel: Channel) -> OptOutCheck: ...

    def is_opted_out(self, number: str, channel: Channel = ...) -> bool: ...

    def opt_out(self, number: str, *, channel: Channel = ..., source: str,
                keyword: str | None = ..., provider_message_id: str | None = ...,
                reason: str | None = ..., now: dt.datetime) -> bool: ...


class SendStep:
    """Sends planned messages.

    Parameters:
      redis: a redis-py client.
      settings: the deployment's settings.
      channels: the client for each channel.
      opt_outs: the opt-out state, checked for SMS and voice at send time.
      limiters: a throughput limit per channel (none for the outbox).
      clock: returns the current time (aware).
      sleep: waits a number of seconds (for a rate-limit slot).
      timer: a monotonic clock in seconds (how long the provider took to answer).
      draw: a random number in [0, 1) (the jitter of a retry delay).
    """

    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        *,
        channels: Mapping[Channel, ChannelClient],
        opt_outs: OptOuts,
        limiters: Mapping[Channel, RateLimiter] | None = None,
        clock: Callable[[], dt.datetime],
        sleep: Callable[[float], None] = time.sleep,
        timer: Callable[[], float] = time.perf_counter,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.channels = channels
        self.opt_outs = opt_outs
        self.limiters = limiters or {}
        self.clock = clock
        self.sleep = sleep
        self.timer = timer
        self.draw = draw
        self.keys = keys = Keys(settings.queue_prefix)
        self.schedule = Schedule(redis, keys=keys, lease=settings.scheduler_lease)
        self.deliveries = DeliveryLog.of(redis, settings)
        self.history = History(redis, keys=keys, retention=settings.event_retention)
        self.latency = ProviderLatency(redis, keys=keys)
        self.records = SendRecords(redis, keys=keys, deliveries=self.deliveries,
                                   history=self.history, latency=self.latency,
                                   replication=Replication.of(redis, settings))
        self.fallbacks = Fallbacks(redis, keys=keys, deliveries=self.deliveries,
                                   history=self.history, event_retention=settings.event_retention)
        self.responses = ResponseStore(redis, settings)

    def __call__(self, payload: Mapping[str, Any]) -> SendOutcome:
        message = PlannedMessage.from_dict(dict(payload))
        now = self.clock()
        opened = self.records.open(message, lock=attempt_lock(self.channels[message.channel]))
        if opened.record.get("status") in HANDED_OVER:
            return SendOutcome.ALREADY_DONE
        if not opened.locked:
            # Handed off twice and the other copy is being sent right now.
            raise RetryLater("another attempt is in flight", delay=ATTEMPT_LOCK_RETRY_MS,
                             counted=False)
        state = opened.state
        confirmed = reminders_skipped(opened.response, state)
        # A fallback or a call's retry is not sent once the patient answered about the
        # appointment as it is now.
        answered = answered_as_is(opened.response, state)
        try:
            outcome = self._attempt(message, state, opened.record, now, confirmed=confirmed,
                                    answered=answered)
        except BaseException:
            self.deliveries.unlock_attempt(message.key)
            raise
        if outcome is not SendOutcome.SENT:  # a sent message's record unlocked it already
            self.deliveries.unlock_attempt(message.key)
        return outcome

    def _attempt(
        self, message: PlannedMessage, state: AppointmentState | None,
        record: dict[str, str], now: dt.datetime, *, confirmed: bool, answered: bool,
    ) -> SendOutcome:
        verdict = decide_at_send(message, state, self.settings, now, confirmed=confirmed,
                                 facts=self._fallback_facts(message, state, answered))
        if isinstance(verdict, Defer):
            self.schedule.defer(message, verdict.until)
            log.debug("message %s waits for its window until %s", message.key,
                      verdict.until.isoformat())
            return SendOutcome.DEFERRED
        if isinstance(verdict, Drop):
            if verdict.reason is Reason.CONTACT_UNDELIVERABLE:
                return self._suppress_for_fallback(message, now, state)
            return self._suppress(message, verdict.reason, now, state)
        assert state is not None
        address = verdict.address
        client = self.channels[message.channel]
        # The console's message list shows where a fallback went (its planned row knows only
        # the planned address), masked: the record never holds an address in clear.
        fields = {**_dimensions(state), "masked": mask_address(address)}
        asked = self._question(message, state, address, now)
        prompt = None if asked is None else ResponsePrompt(
            code=asked.code if asked.show_code else None, decline=asked.decline)
        try:
            rendered = render(message.kind, message.channel, state, self.settings, now,
                              asking=prompt)
        except SmsOverBudget:
            return self._suppress(message, Reason.OVER_BUDGET, now, state)
        try:
            # A message that can never be built fails here, before its record says
            # "submitting": a data error is not an interrupted send. What is built here is
            # what is sent.
            hand_over = client.prepare(message, rendered, address)
        except DeliveryError as error:
            return self._failed_attempt(message, error, address, now, state)
        if record.get("status") == DeliveryStatus.SUBMITTING and not client.idempotent:
            # An earlier attempt died or timed out mid-send: the message may have gone.
            resends = int(record.get("ambiguous", "0"))
            span = self._attempt_span(message, record)
            try:
                found = client.find_sent(message, rendered, address, between=span,
                                         taken=self._belongs_elsewhere(message))
            except CannotTell:
                if resends >= AMBIGUOUS_RETRIES:
                    return self._fail(message, Reason.INTERRUPTED, now)
            except DeliveryError as error:
                return self._failed_attempt(message, error, address, now, state)
            else:
                if found is not None:
                    log.info("message %s: the interrupted attempt had reached its provider",
                             message.key)
                    return self._handed_over(message, found, now, state=state,
                                             question=self._opening(message, state, asked,
                                                                    address, now),
                                             rendered=rendered)
            fields["ambiguous"] = resends + 1
            log.warning("message %s: resending after an interrupted attempt", message.key)
        last = self._last_check(message, address, rendered.sms.segments if rendered.sms else 1,
                                now, fields)
        if last is Check.HANDED_OVER:
            return SendOutcome.ALREADY_DONE
        if last is Check.OPTED_OUT:
            return self._suppress(message, Reason.OPTED_OUT, now, state)
        began = self.timer()
        try:
            receipt = hand_over()
        except DeliveryError as error:
            self.latency.record(message.channel, self.timer() - began)
            return self._failed_attempt(message, error, address, now, state)
        return self._handed_over(message, receipt, now, took=self.timer() - began, state=state,
                                 question=self._opening(message, state, asked, address, now),
                                 rendered=rendered)

    def _question(self, message: PlannedMessage, state: AppointmentState, address: str,
                  now: dt.datetime) -> QuestionPlan | None:
        """How the message asks the patient to answer, or None when it does not. Only
        then is the number's open questions read (one more round trip): its code shows
        when another appointment's question is open. A call asks the number it dials; its
        keys answer the call's own appointment, so no code is ever said."""
        location = state.appointment.location
        if not asks(message.kind, message.channel, location):
            return None
        if not asks_question(message.kind, message.channel,
                             state.appointment.patient.language, self.settings):
            return None  # a deployment's own words without the question
        held = self.responses.questions(address)
        others = [q for q in held.questions if q.reference != message.reference]
        if any(q.is_open(now) for q in others):
            # Only then one more round trip: a question about an appointment that changed
            # since is no reason to show a code.
            states = self.responses.appointments(q.reference for q in others)
            current = standing(others, states, address, now)
            questions = [*current, *(q for q in held.questions if q not in others)]
        else:
            questions = list(held.questions)
        return plan_question(message.reference, location, questions, now)

    def _opening(self, message: PlannedMessage, state: AppointmentState,
                 asked: QuestionPlan | None, address: str,
                 now: dt.datetime) -> QuestionOpening | None:
        if asked is None:
            return None
        question = question_for(state, asked, channel=message.channel, send_key=message.key,
                                now=now)
        return self.responses.opening(address, question)

    def _last_check(self, message: PlannedMessage, address: str, cost: int,
                    now: dt.datetime, fields: Mapping[str, str | int]) -> Check:
        """The opt-out, the rate-limit slot (waited for here, when it is near) and the
        record's move to ``submitting``, right before the provider is called."""
        limiter = self.limiters.get(message.channel)
        opt_out = None
        if message.channel is not Channel.EMAIL:
            opt_out = self.opt_outs.send_check(address, message.channel)
        last = self.records.begin(message, now, fields, opt_out=opt_out,
                                  slot=limiter.slot(cost, now) if limiter else None)
        if last.check is Check.TOO_FAR:
            log.info("message %s waits %.1fs for the provider's rate limit", message.key,
                     last.wait)
            raise RetryLater("provider rate limit", delay=int(last.wait * 1000) + 1,
                             counted=False)
        if last.check is Check.BEGUN and last.wait > 0:
            self.sleep(last.wait)
            # An ARRET may have come in while the message waited for its turn.
            if opt_out is not None and self.opt_outs.is_opted_out(address, message.channel):
                return Check.OPTED_OUT
        return last.check

    def _belongs_elsewhere(self, message: PlannedMessage) -> Callable[[str], bool]:
        """Whether a provider id is already recorded as another message's."""

        def taken(provider_id: str) -> bool:
            return self.deliveries.key_for_provider(provider_id) not in (None, message.key)

        return taken

    def _attempt_span(
        self, message: PlannedMessage, record: Mapping[str, str]
    ) -> tuple[dt.datetime, dt.datetime]:
        """When the interrupted attempt could have reached its provider: from its start
        until its lock lapsed."""
        began = dt.datetime.fromisoformat(record["updated_at"])
        return began, began + attempt_lock(self.channels[message.channel])

    def _handed_over(self, message: PlannedMessage, receipt: Receipt, now: dt.datetime,
                     *, took: float | None = None,
                     state: AppointmentState | None = None,
                     question: QuestionOpening | None = None,
                     rendered: Rendered | None = None) -> SendOutcome:
        """Record what the provider took; ``took``: how long its answer took, None when
        the message was found rather than sent; ``question``: the question it asks;
        ``rendered``: what was sent (its SMS segments are what the clinic's usage counts). Where
        the location has a fallback, the record also keeps the message's deadline (a status
        callback's failure plans the fallback from it)."""
        fields: dict[str, str] = {}
        if state is not None and state.appointment.location.fallback is not None:
            fields["deadline"] = str(int(message.deadline.timestamp()))
        self.records.handed_over(
            message, provider_id=receipt.provider_id, status=DeliveryStatus(receipt.status),
            at=self.clock(), line=self._line(message, now, "sent"), took=took, fields=fields,
            question=question,
            usage=None if state is None else usage_of(
                state.appointment.location.id, message.channel,
                segments=rendered.sms.segments if rendered and rendered.sms else None),
        )
        log.debug("message %s handed to its provider (%s)", message.key, receipt.status)
        return SendOutcome.SENT

    def _failed_attempt(
        self, message: PlannedMessage, error: DeliveryError, address: str, now: dt.datetime,
        state: AppointmentState | None,
    ) -> SendOutcome:
        if error.opted_out:
            self.opt_outs.opt_out(address, channel=message.channel,
                                  source=OptOutSource.TWILIO_21610,
                                  reason=f"provider error {error.code}", now=now)
        if error.failure in (FailureClass.PERMANENT, FailureClass.CONFIGURATION):
            if error.failure is FailureClass.CONFIGURATION:
                log.error("CONFIGURATION problem with the %s provider (code %s): %s; message %s "
                          "not sent", message.channel, error.code, error.detail, message.key)
            # A permanent refusal may concern the address itself: its booking system is
            # told which, to fix it at the source (once per address and reason), and it
            # may start the location's fallback.
            if error.failure is FailureClass.PERMANENT and not error.opted_out:
                trigger = classify_failure(message.channel, error_code=error.code,
                                           route=message.route)
                if trigger != NOTHING:
                    return self._fail_with(message, Reason.PROVIDER_PERMANENT, now, state,
                                           trigger, address=address,
                                           fields={"error_code": error.code})
            return self._fail(message, _STOPPED_BY[error.failure], now,
                              {"error_code": error.code},
                              address=address if error.failure is FailureClass.PERMANENT
                              else None)
        failures = self.deliveries.count_failure(message.key)
        delay = retry_delay(failures, draw=self.draw(), retry_after=error.retry_after)
        if now + delay >= message.deadline:
            return self._fail(message, Reason.PAST_DEADLINE, now, {"error_code": error.code})
        if error.failure is FailureClass.TRANSIENT:
            # Certainly not sent: the next attempt starts afresh.
            self.deliveries.advance(message.key, DeliveryStatus.RETRYING, now,
                                    fields={"error_code": error.code})
        log.warning("message %s: %s failure %s, failed try %d; retrying in %ds", message.key,
                    error.failure, error.code, failures, delay.total_seconds())
        raise RetryLater(f"{error.failure} failure {error.code}",
                         delay=int(delay.total_seconds() * 1000), counted=True)

    def _suppress(self, message: PlannedMessage, reason: Reason, now: dt.datetime,
                  state: AppointmentState | None) -> SendOutcome:
        _, changed = self.deliveries.advance(
            message.key, DeliveryStatus.SUPPRESSED, now, message=message,
            fields={"reason": reason, **_dimensions(state)},
        )
        if changed:
            self._tell(message, now, "suppressed", reason=reason)
        log.debug("message %s suppressed: %s", message.key, reason)
        return SendOutcome.SUPPRESSED

    def _fallback_facts(self, message: PlannedMessage, state: AppointmentState | None,
                        answered: bool) -> FallbackFacts:
        """What only a location with a fallback reads before the send check (one more
        round trip there; none elsewhere)."""
        if state is None or state.appointment.location.fallback is None:
            return NO_FACTS
        return self.fallbacks.facts(message, state.appointment, answered=answered)

    def _suppress_for_fallback(self, message: PlannedMessage, now: dt.datetime,
                               state: AppointmentState | None) -> SendOutcome:
        """A message to an address known undeliverable: suppressed, and its fallback
        planned in the same step."""
        reason = Reason.CONTACT_UNDELIVERABLE
        self._fail_with(message, reason, now, state, Verdict(Next.FALLBACK),
                        status=DeliveryStatus.SUPPRESSED)
        return SendOutcome.SUPPRESSED

    def _fail_with(self, message: PlannedMessage, reason: Reason, now: dt.datetime,
                   state: AppointmentState | None, trigger: Verdict, *,
                   status: DeliveryStatus = DeliveryStatus.FAILED, address: str | None = None,
                   fields: Mapping[str, str] | None = None) -> SendOutcome:
        """Record a failure (or suppression) and, in the same step, its story line and
        what it leads to: the contact-health registry, the fallback."""
        dimensions = _dimensions(state)
        _, _, follow = self.fallbacks.record(
            message, state,
            Failure(status, {"reason": reason, **dimensions, **(fields or {})}, trigger,
                    address, str(dimensions.get("location", "")),
                    line=self._line(message, now, str(status), reason=reason)),
            now,
        )
        if follow:
            log.info("message %s: %s planned as %s", message.key, trigger.next, follow)
        log.warning("message %s %s: %s", message.key, status, reason)
        return SendOutcome.SUPPRESSED if status is DeliveryStatus.SUPPRESSED else SendOutcome.FAILED

    def _fail(self, message: PlannedMessage, reason: Reason, now: dt.datetime,
              fields: Mapping[str, str] | None = None, *,
              address: str | None = None) -> SendOutcome:
        _, changed = self.deliveries.advance(message.key, DeliveryStatus.FAILED, now,
                                             message=message,
                                             fields={"reason": reason, **(fields or {})},
                                             address=address)
        if changed:
            self._tell(message, now, "failed", reason=reason)
        log.warning("message %s failed: %s", message.key, reason)
        return SendOutcome.FAILED

    def exhausted(self, payload: Mapping[str, Any]) -> None:
        """Dramatiq gave up on the message: its attempts kept crashing (a provider's
        failure never counts against Dramatiq's retries, see ``retry_when`` in
        :mod:`notifier.actors`). Record the failure; Dramatiq keeps the dead letter."""
        message = PlannedMessage.from_dict(dict(payload))
        self._fail(message, Reason.RETRIES_EXHAUSTED, self.clock())

    def _tell(self, message: PlannedMessage, now: dt.datetime, what: str, **extra: str) -> None:
        self.history.append(message.reference, self._line(message, now, what, **extra))

    @staticmethod
    def _line(message: PlannedMessage, now: dt.datetime, what: str,
              **extra: str) -> dict[str, str]:
        return {
            "at": now.astimezone(dt.UTC).isoformat(),
            "what": what,
            "key": message.key,
            "kind": str(message.kind),
            "channel": str(message.channel),
            **extra,
        }


def _dimensions(state: AppointmentState | None) -> dict[str, str | int]:
    """What operators count deliveries by, besides kind and channel."""
    if state is None:
        return {}
    appointment = state.appointment
    return {"lang": str(appointment.patient.language), "location": appointment.location.id}
