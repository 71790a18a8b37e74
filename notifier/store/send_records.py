"""The send step's round trips that span several stores: what an attempt reads first, and
what a message handed to its provider writes. Each is one round trip: a pipeline without
MULTI.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from redis import Redis

from notifier.delivery_status import DeliveryStatus
from notifier.planning.entries import AppointmentState, PlannedMessage
from notifier.store.decoding import text_map
from notifier.store.deliveries import DeliveryLog
from notifier.store.history import History
from notifier.store.keys import Keys
from notifier.store.provider_latency import ProviderLatency
from notifier.store.redis_store import RedisStore


class SendRecords(RedisStore):
    """Reads and writes one send makes across the delivery log, the appointments, the
    stories and the providers' answer times.

    Parameters (and :class:`RedisStore`'s):
      deliveries: the delivery log (records, provider ids, attempt locks).
      history: the appointments' stories.
      latency: the providers' answer times.
    """

    def __init__(
        self, redis: Redis, *, keys: Keys, deliveries: DeliveryLog, history: History,
        latency: ProviderLatency,
    ) -> None:
        super().__init__(redis, keys=keys)
        self.deliveries = deliveries
        self.history = history
        self.latency = latency

    def read(self, message: PlannedMessage) -> tuple[dict[str, str], AppointmentState | None]:
        """The message's delivery record and its appointment, in one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.keys.delivery(message.key))
            pipe.get(self.keys.appointment(message.reference))
            raw_record, raw_state = pipe.execute()
        state = None if raw_state is None else AppointmentState.from_json(raw_state)
        return text_map(raw_record), state

    def handed_over(
        self, message: PlannedMessage, *, provider_id: str, status: DeliveryStatus,
        at: dt.datetime, line: dict[str, Any], took: float | None,
    ) -> None:
        """Record, in one round trip, what the provider took: the answer time ``took``
        (None when the message was found rather than sent), the provider id's link, the
        record's move to ``status`` at ``at``, the story's ``line``, and the attempt lock's
        release."""
        with self.redis.pipeline(transaction=False) as pipe:
            if took is not None:
                self.latency.stage(pipe, message.channel, took)
            self.deliveries.stage_link_provider(pipe, provider_id, message.key)
            self.deliveries.stage_advance(pipe, message.key, status, at,
                                          {"provider_id": provider_id})
            self.history.stage(pipe, message.reference, line)
            self.deliveries.stage_unlock_attempt(pipe, message.key)
            pipe.execute()
