"""The delivery log: one record per send key, so that a redelivered Dramatiq message
never sends twice.

A record's status moves forward only: ``sending`` -> ``sent`` | ``dropped`` | ``failed``.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import redis

from notifier.planning.entries import PlannedMessage
from notifier.store.keys import Keys


class DeliveryStatus(enum.StrEnum):
    SENDING = "sending"
    SENT = "sent"
    DROPPED = "dropped"
    FAILED = "failed"


FINAL = frozenset({DeliveryStatus.SENT, DeliveryStatus.DROPPED, DeliveryStatus.FAILED})

# KEYS: record. ARGV: now, ttl seconds, then field/value pairs describing the message.
# Returns the previous status: a final one means "already done, do nothing";
# 'sending' means an earlier attempt died mid-send.
_BEGIN = """
local previous = redis.call('HGET', KEYS[1], 'status')
if previous and previous ~= 'sending' then
  return previous
end
redis.call('HSET', KEYS[1], 'status', 'sending', 'updated_at', ARGV[1], unpack(ARGV, 3))
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return previous or ''
"""

# KEYS: record. ARGV: status, now, ttl, then field/value pairs. Never moves back from final.
_FINISH = """
local previous = redis.call('HGET', KEYS[1], 'status')
if previous and previous ~= 'sending' then
  return 0
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated_at', ARGV[2], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


class DeliveryLog:
    """Per-key records of what became of each planned message.

    Parameters:
      client: a redis-py client.
      keys: the deployment's key names.
      retention: how long a record is kept.
    """

    def __init__(self, client: redis.Redis, *, keys: Keys, retention: dt.timedelta) -> None:
        self.client = client
        self.keys = keys
        self.ttl = int(retention.total_seconds())
        self._begin = client.register_script(_BEGIN)
        self._finish = client.register_script(_FINISH)

    def begin(self, message: PlannedMessage, now: dt.datetime) -> str | None:
        """Mark the key as being sent. Returns its previous status (None if new)."""
        fields = _describe(message)
        previous = self._begin(
            keys=[self.keys.delivery(message.key)],
            args=[now.isoformat(), self.ttl, *fields],
        )
        text = previous.decode() if isinstance(previous, bytes) else str(previous)
        return text or None

    def finish(
        self,
        message: PlannedMessage,
        status: DeliveryStatus,
        now: dt.datetime,
        **details: str,
    ) -> bool:
        """Record a final status; False if the record was already final."""
        extra: list[str] = [item for pair in details.items() for item in pair]
        return bool(
            self._finish(
                keys=[self.keys.delivery(message.key)],
                args=[str(status), now.isoformat(), self.ttl, *_describe(message), *extra],
            )
        )

    def get(self, key: str) -> dict[str, str]:
        raw: dict[Any, Any] = self.client.hgetall(self.keys.delivery(key))
        return {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()
        }


def _describe(message: PlannedMessage) -> list[str]:
    return [
        "reference", message.reference,
        "kind", str(message.kind),
        "channel", str(message.channel),
        "version", str(message.version),
    ]
