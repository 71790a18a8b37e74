"""The send step's round trips, each one script: what an attempt reads as it takes its
lock, its last checks right before the provider is called, and what a message handed to
its provider writes. With the provider's call between the last two, a message sent at
the first try costs three round trips (one more when it waits for its rate-limit slot:
the opt-out is read again after the wait).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis import Redis

from notifier.delivery_status import DeliveryStatus
from notifier.planning.entries import AppointmentState, PlannedMessage
from notifier.responses import PatientResponse
from notifier.store.decoding import pairs_map, text
from notifier.store.deliveries import DeliveryLog
from notifier.store.history import MAX_LINES, History
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutCheck
from notifier.store.provider_latency import ProviderLatency, bucket
from notifier.store.rate_limit import RateSlot
from notifier.store.redis_store import RedisStore
from notifier.store.replication import Replication
from notifier.store.responses import QUESTIONS_GRACE, QuestionOpening
from notifier.store.usage import USAGE_TTL_SECONDS, Usage, hour_label


@dataclass(frozen=True)
class Opened:
    """What an attempt found as it started.

    Parameters:
      locked: whether it holds the message's attempt lock (never when a provider has the
        message already).
      record: the message's delivery record.
      state: the appointment as it is now (None when it is gone).
      response: the patient's latest response to it (None when none).
    """

    locked: bool
    record: dict[str, str]
    state: AppointmentState | None
    response: PatientResponse | None = None


class Check(enum.StrEnum):
    """What the last checks before a provider call decided."""

    BEGUN = "begun"  # the record says submitting: call the provider
    OPTED_OUT = "opted_out"  # the number opted out: suppress
    TOO_FAR = "too_far"  # the rate-limit slot is further than the step may wait
    HANDED_OVER = "handed_over"  # a provider has the message already


@dataclass(frozen=True)
class LastCheck:
    """The answer of :meth:`SendRecords.begin`.

    Parameters:
      check: what was decided.
      wait: seconds to wait for the reserved slot (``BEGUN``), or until a slot would be
        free (``TOO_FAR``); 0 otherwise.
    """

    check: Check
    wait: float = 0.0


class SendRecords(RedisStore):
    """Reads and writes one send makes across the delivery log, the appointments, the
    opt-outs, the rate limits, the stories and the providers' answer times.

    Parameters (and :class:`RedisStore`'s):
      deliveries: the delivery log (records, provider ids, attempt locks).
      history: the appointments' stories.
      latency: the providers' answer times.
      replication: waits for the replicas to hold a record's move to ``submitting``
        before the provider is called.
    """

    def __init__(
        self, redis: Redis, *, keys: Keys, deliveries: DeliveryLog, history: History,
        latency: ProviderLatency, replication: Replication,
    ) -> None:
        super().__init__(redis, keys=keys)
        self.replication = replication
        self.deliveries = deliveries
        self.history = history
        self.latency = latency

    def open(self, message: PlannedMessage, *, lock: dt.timedelta) -> Opened:
        """Take the message's attempt lock for ``lock`` (unless a provider has the message
        or another attempt holds it) and read its record, its appointment and the
        patient's response to it."""
        locked, record, state, response = self.script("send_open")(
            keys=[self.keys.attempt_lock(message.key), self.keys.delivery(message.key),
                  self.keys.appointment(message.reference),
                  self.keys.response(message.reference)],
            args=[int(lock.total_seconds() * 1000)],
        )
        return Opened(bool(locked), pairs_map(record),
                      None if state is None else AppointmentState.from_json(state),
                      PatientResponse.from_fields(pairs_map(response)))

    def begin(
        self, message: PlannedMessage, now: dt.datetime, fields: Mapping[str, str | int], *,
        opt_out: OptOutCheck | None, slot: RateSlot | None,
    ) -> LastCheck:
        """Under the attempt lock, right before the provider is called: check the opt-out
        (when ``opt_out`` is given), reserve the rate-limit ``slot`` (when given), and mark
        the record ``submitting`` with ``fields``, in one step that stops at the first
        check that fails. A number checked also remembers the message's location (whose
        booking system hears of the number's opt-outs). When the move waits for replicas,
        the opt-out is read again once the wait is over, in the same round trip: an
        ``OPTED_OUT`` then finds the record ``submitting``, and suppressing it moves it
        on."""
        record_keys, move = self.deliveries.move(message.key, DeliveryStatus.SUBMITTING, now,
                                                 message=message, fields=fields)
        location = str(fields.get("location", ""))
        answer, opted_out_since = self.replication.run_then_read(
            self.script("send_begin"),
            keys=[*record_keys, opt_out.key if opt_out else record_keys[0],
                  slot.key if slot else record_keys[0],
                  self.keys.contact_locations(opt_out.digest) if opt_out else record_keys[0]],
            args=[opt_out.number if opt_out else "",
                  *((slot.now_ms, slot.cost_ms, slot.longest_wait_ms) if slot else ("",) * 3),
                  location, self.deliveries.ttl, *move],
            read=(lambda pipe: pipe.sismember(opt_out.key, opt_out.number)) if opt_out else None,
        )
        check = Check(text(answer[0]))
        if check is Check.BEGUN and opted_out_since:
            # The number opted out while the move waited for its replicas: the patient
            # may have been told so already.
            return LastCheck(Check.OPTED_OUT)
        wait = int(answer[1]) / 1000.0 if check in (Check.BEGUN, Check.TOO_FAR) else 0.0
        return LastCheck(check, wait)

    def handed_over(
        self, message: PlannedMessage, *, provider_id: str, status: DeliveryStatus,
        at: dt.datetime, line: dict[str, Any], took: float | None,
        fields: Mapping[str, str] | None = None,
        question: QuestionOpening | None = None,
        usage: Usage | None = None,
    ) -> None:
        """Record, in one step, what the provider took: the answer time ``took`` (None
        when the message was found rather than sent), the provider id's link, the record's
        move to ``status`` at ``at`` (logged for the booking system) with ``fields``, the
        story's ``line``, the ``question`` the message asks opened (replacing its
        appointment's earlier one to the number), the ``usage`` it costs counted (None when
        it was found rather than sent), and the attempt lock's release."""
        record_keys, move = self.deliveries.move(message.key, status, at,
                                                 fields={"provider_id": provider_id,
                                                         **(fields or {})})
        seconds = max(0.0, took or 0.0)
        self.script("send_handed_over")(
            keys=[*record_keys, self.keys.provider(provider_id),
                  self.keys.history(message.reference), self.keys.attempt_lock(message.key),
                  self.keys.provider_latency(str(message.channel)),
                  question.key if question else record_keys[0],
                  self.keys.usage(hour_label(at))],
            args=[json.dumps(line, ensure_ascii=False), MAX_LINES,
                  int(self.history.retention.total_seconds()),
                  "" if took is None else bucket(seconds), repr(seconds),
                  question.question.packed() if question else "",
                  question.question.reference if question else "",
                  int(at.timestamp()), int(QUESTIONS_GRACE.total_seconds()),
                  usage.field if usage else "", usage.units if usage else 0,
                  USAGE_TTL_SECONDS, *move],
        )
