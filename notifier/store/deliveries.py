"""The delivery log: one record per send key, whose status only moves forward (the order
of :mod:`notifier.delivery_status`). Records expire after the retention period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from redis import Redis

from notifier.delivery_status import DeliveryStatus
from notifier.planning.entries import PlannedMessage
from notifier.settings import Settings
from notifier.store.decoding import optional_text, text, text_map
from notifier.store.keys import Keys
from notifier.store.redis_store import RedisStore

# Hourly counts are kept for a little over the longest dashboard period (a week).
STATS_TTL_SECONDS = 8 * 24 * 3600
# How long the callback log keeps what booking systems were told, unless set otherwise.
CALLBACK_RETENTION = Settings.model_fields["callback_retention"].default


class DeliveryLog(RedisStore):
    """Per-key records of what became of each planned message.

    Parameters (and :class:`RedisStore`'s):
      retention: how long a record is kept after its last change.
      callback_retention: how long the callback log keeps what a move told.
    """

    def __init__(self, redis: Redis, *, keys: Keys, retention: dt.timedelta,
                 callback_retention: dt.timedelta = CALLBACK_RETENTION) -> None:
        super().__init__(redis, keys=keys)
        self.ttl = int(retention.total_seconds())
        self.callback_retention = callback_retention

    @classmethod
    def of(cls, redis: Redis, settings: Settings) -> DeliveryLog:
        """The deployment's delivery log, as ``settings`` keep it."""
        return cls(redis, keys=Keys(settings.queue_prefix), retention=settings.delivery_retention,
                   callback_retention=settings.callback_retention)

    def advance(
        self,
        key: str,
        status: DeliveryStatus,
        now: dt.datetime,
        *,
        message: PlannedMessage | None = None,
        fields: Mapping[str, str | int] | None = None,
        address: str | None = None,
    ) -> tuple[str | None, bool]:
        """Move the record for ``key`` to ``status`` if that is forward, writing ``fields``
        (and the message's description) with it; a move that changes what booking systems
        are told is logged for them (``address``: the address a failure concerns, told in
        a ``contact.undeliverable`` callback when it must be fixed).

        Returns the previous status (None for a new record) and whether it changed.
        """
        keys, args = self.move(key, status, now, message=message, fields=fields,
                               address=address)
        previous, changed = self.script("delivery_advance")(keys=keys, args=args)
        return (text(previous) or None), bool(changed)

    def move(
        self, key: str, status: DeliveryStatus, now: dt.datetime, *,
        message: PlannedMessage | None = None, fields: Mapping[str, str | int] | None = None,
        address: str | None = None,
    ) -> tuple[list[str], list[str | int]]:
        """The keys and arguments of ``move_delivery`` (``scripts/lib/delivery_move.lua``)
        for :meth:`advance`."""
        pairs: list[str | int] = [item for pair in (fields or {}).items() for item in pair]
        if message is not None:
            pairs += _describe(message)
        hour = now.astimezone(dt.UTC).strftime("%Y%m%d%H")
        now_ms = int(now.timestamp() * 1000)
        oldest_kept = max(0, now_ms - int(self.callback_retention.total_seconds() * 1000))
        return ([self.keys.delivery(key), self.keys.stats(hour), self.keys.callback_log],
                [str(status), now.isoformat(), self.ttl, STATS_TTL_SECONDS, key, now_ms,
                 oldest_kept, address or "", self.keys.prefix,
                 self.keys.outcomes_prefix(),
                 now.astimezone(dt.UTC).strftime("%Y-%m"), self.keys.reached(""), *pairs])

    def count_failure(self, key: str) -> int:
        """Count one more failed try of ``key`` (a create or a look-up the provider failed)
        and return how many there were: it sets the next retry's delay."""
        return int(self.redis.hincrby(self.keys.delivery(key), "failures", 1))

    def reopen(self, key: str, now: dt.datetime, *, by: str) -> bool:
        """An operator sends a message again after the gateway gave up on it (every retry
        used, or an interrupted attempt it would not repeat): the record goes back to
        ``retrying``. The one move backwards, and only from those two failures."""
        return bool(self.script("delivery_reopen")(keys=[self.keys.delivery(key)],
                                                   args=[now.isoformat(), by, self.ttl, key,
                                                         now.timestamp(), self.keys.prefix]))

    def unlock_attempt(self, key: str) -> None:
        """Release the attempt lock of ``key``: the attempt ended without a provider
        taking the message (a message handed over releases it with its record)."""
        self.redis.delete(self.keys.attempt_lock(key))

    def link_provider(self, provider_id: str, key: str) -> None:
        """Remember which send key a provider id belongs to (for status callbacks)."""
        self.redis.set(self.keys.provider(provider_id), key, ex=self.ttl)

    def key_for_provider(self, provider_id: str) -> str | None:
        raw = self.redis.get(self.keys.provider(provider_id))
        return optional_text(raw)

    def get(self, key: str) -> dict[str, str]:
        return text_map(self.redis.hgetall(self.keys.delivery(key)))


def _describe(message: PlannedMessage) -> list[str | int]:
    return [
        "reference", message.reference,
        "kind", str(message.kind),
        "channel", str(message.channel),
        "version", message.version,
    ]
