"""The send step: decide late, check again, then hand one message to its channel.

Runs inside the ``send_message`` Dramatiq actor. The appointment is re-read when the
message leaves; a message that is no longer true is dropped with its reason, and the
delivery log makes a redelivered Dramatiq message harmless.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable, Mapping
from typing import Any

import redis

from notifier.channels.base import ChannelClient
from notifier.domain import Channel
from notifier.messages.catalogue import render
from notifier.planning.entries import PlannedMessage
from notifier.planning.send_check import Defer, Drop, decide_at_send
from notifier.settings import Settings
from notifier.store.deliveries import FINAL, DeliveryLog, DeliveryStatus
from notifier.store.history import History
from notifier.store.intake import Intake
from notifier.store.keys import Keys

log = logging.getLogger(__name__)


class SendOutcome(enum.StrEnum):
    SENT = "sent"
    DROPPED = "dropped"
    DEFERRED = "deferred"
    ALREADY_DONE = "already_done"
    UNCERTAIN = "uncertain"


class SendStep:
    """Sends planned messages.

    Parameters:
      client: a redis-py client.
      settings: the deployment's settings.
      channels: the client for each channel.
      clock: returns the current time (aware).
    """

    def __init__(
        self,
        client: redis.Redis,
        settings: Settings,
        *,
        channels: Mapping[Channel, ChannelClient],
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.settings = settings
        self.channels = channels
        self.clock = clock
        keys = Keys(settings.queue_prefix)
        self.store = Intake(client, settings)
        self.deliveries = DeliveryLog(client, keys=keys, retention=settings.event_retention)
        self.history = History(client, keys=keys, retention=settings.event_retention)

    def __call__(self, payload: Mapping[str, Any]) -> SendOutcome:
        message = PlannedMessage.from_dict(dict(payload))
        now = self.clock()
        done = self.deliveries.get(message.key).get("status")
        if done in FINAL:
            return SendOutcome.ALREADY_DONE
        state = self.store.load(message.reference)
        verdict = decide_at_send(message, state, self.settings, now)
        if isinstance(verdict, Defer):
            self.store.schedule.defer(message, verdict.until)
            log.info("message %s deferred to %s (outside its window)", message.key,
                     verdict.until.isoformat())
            return SendOutcome.DEFERRED
        if isinstance(verdict, Drop):
            self.deliveries.begin(message, now)
            if self.deliveries.finish(message, DeliveryStatus.DROPPED, now, reason=verdict.reason):
                self._tell(message, now, "dropped", reason=verdict.reason)
            log.info("message %s dropped: %s", message.key, verdict.reason)
            return SendOutcome.DROPPED
        assert state is not None
        client = self.channels[message.channel]
        previous = self.deliveries.begin(message, now)
        if previous in FINAL:
            return SendOutcome.ALREADY_DONE
        if previous == DeliveryStatus.SENDING and not client.idempotent:
            # An earlier attempt died after starting to send: it may have gone out.
            # At most once: record the doubt instead of risking a second message.
            self.deliveries.finish(message, DeliveryStatus.FAILED, now, reason="interrupted")
            self._tell(message, now, "failed", reason="interrupted")
            log.warning("message %s interrupted mid-send earlier; not sent again", message.key)
            return SendOutcome.UNCERTAIN
        rendered = render(message.kind, message.channel, state, self.settings, now)
        provider_id = client.send(message, rendered, verdict.address)
        self.deliveries.finish(message, DeliveryStatus.SENT, self.clock(), provider_id=provider_id)
        self._tell(message, now, "sent")
        log.info("message %s sent", message.key)
        return SendOutcome.SENT

    def _tell(self, message: PlannedMessage, now: dt.datetime, what: str, **extra: str) -> None:
        self.history.append(
            message.reference,
            {
                "at": now.astimezone(dt.UTC).isoformat(),
                "what": what,
                "key": message.key,
                "kind": str(message.kind),
                "channel": str(message.channel),
                **extra,
            },
        )
