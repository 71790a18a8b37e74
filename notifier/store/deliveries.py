"""The delivery log: one record per send key, whose status only moves forward.

    submitting / retrying  <  accepted  <  sent  <  delivered | undelivered | failed | suppressed

``submitting`` means an attempt is under way (or died under way); ``retrying`` means the
last attempt certainly did not reach the provider and another will follow. Provider
callbacks arrive in any order and possibly twice: an update that would move a record back
is ignored. Records expire after the retention period.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

import redis

from notifier.planning.entries import PlannedMessage
from notifier.store.keys import Keys


class DeliveryStatus(enum.StrEnum):
    SUBMITTING = "submitting"
    RETRYING = "retrying"
    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


RANK = {
    DeliveryStatus.SUBMITTING: 0,
    DeliveryStatus.RETRYING: 0,
    DeliveryStatus.ACCEPTED: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.UNDELIVERED: 3,
    DeliveryStatus.FAILED: 3,
    DeliveryStatus.SUPPRESSED: 3,
}
IN_FLIGHT = frozenset(s for s, rank in RANK.items() if rank == 0)
FINAL = frozenset(s for s, rank in RANK.items() if rank == 3)
# Once a provider took the message, the send step has nothing left to do.
HANDED_OVER = frozenset(s for s, rank in RANK.items() if rank >= 1)

# Hourly counts are kept for a little over the longest dashboard period (a week).
STATS_TTL_SECONDS = 8 * 24 * 3600

_RANKS_LUA = "{" + ", ".join(f"['{s}'] = {r}" for s, r in RANK.items()) + "}"

# KEYS: record, this hour's counts. ARGV: status, now, ttl seconds, counts ttl seconds,
# then field/value pairs. Moves forward only; among the in-flight statuses (rank 0) any
# move is allowed. Each status a record reaches (but the in-flight ones) is counted by
# status|channel|kind|language|location|reason, so dashboards read a few small hashes
# instead of scanning every record. Returns the previous status ('' if none) and whether
# the record changed.
_ADVANCE = f"""
local ranks = {_RANKS_LUA}
local previous = redis.call('HGET', KEYS[1], 'status') or ''
local old = ranks[previous]
local new = ranks[ARGV[1]]
if old ~= nil and not (new > old or (new == 0 and old == 0)) then
  return {{previous, 0}}
end
if previous == '' then
  redis.call('HSET', KEYS[1], 'created_at', ARGV[2])
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated_at', ARGV[2], unpack(ARGV, 5))
if ARGV[1] == 'submitting' then
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
if new > 0 then
  local r = redis.call('HMGET', KEYS[1], 'channel', 'kind', 'lang', 'location',
                       'error_code', 'reason')
  local why = r[5] or r[6] or ''
  if ARGV[1] ~= 'failed' and ARGV[1] ~= 'undelivered' and ARGV[1] ~= 'suppressed' then
    why = ''
  end
  local field = table.concat({{ARGV[1], r[1] or '', r[2] or '', r[3] or '', r[4] or '', why}},
                             '|')
  redis.call('HINCRBY', KEYS[2], field, 1)
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
return {{previous, 1}}
"""


class DeliveryLog:
    """Per-key records of what became of each planned message.

    Parameters:
      client: a redis-py client.
      keys: the deployment's key names.
      retention: how long a record is kept after its last change.
    """

    def __init__(self, client: redis.Redis, *, keys: Keys, retention: dt.timedelta) -> None:
        self.client = client
        self.keys = keys
        self.ttl = int(retention.total_seconds())
        self._advance = client.register_script(_ADVANCE)

    def advance(
        self,
        key: str,
        status: DeliveryStatus,
        now: dt.datetime,
        *,
        message: PlannedMessage | None = None,
        fields: Mapping[str, str | int] | None = None,
    ) -> tuple[str | None, bool]:
        """Move the record for ``key`` to ``status`` if that is forward, writing ``fields``
        (and the message's description) with it.

        Returns the previous status (None for a new record) and whether it changed.
        """
        pairs: list[str | int] = [item for pair in (fields or {}).items() for item in pair]
        if message is not None:
            pairs += _describe(message)
        hour = now.astimezone(dt.UTC).strftime("%Y%m%d%H")
        previous, changed = self._advance(
            keys=[self.keys.delivery(key), self.keys.stats(hour)],
            args=[str(status), now.isoformat(), self.ttl, STATS_TTL_SECONDS, *pairs],
        )
        text = previous.decode() if isinstance(previous, bytes) else str(previous)
        return (text or None), bool(changed)

    def begin(
        self, message: PlannedMessage, now: dt.datetime,
        fields: Mapping[str, str | int] | None = None,
    ) -> str | None:
        """Mark an attempt as started; returns the status before it (None if new).

        A final or handed-over record is left alone (the caller sees its status).
        """
        previous, _ = self.advance(message.key, DeliveryStatus.SUBMITTING, now,
                                   message=message, fields=fields)
        return previous

    def lock_attempt(self, key: str, *, ttl: dt.timedelta) -> bool:
        """Take the right to attempt ``key`` now; False while another worker holds it.

        The lock outlives the longest legitimate attempt; a worker killed mid-send lets
        it lapse, after which the record shows ``submitting``: an interrupted attempt.
        """
        ms = int(ttl.total_seconds() * 1000)
        return bool(self.client.set(self.keys.attempt_lock(key), "1", nx=True, px=ms))

    def unlock_attempt(self, key: str) -> None:
        self.client.delete(self.keys.attempt_lock(key))

    def link_provider(self, provider_id: str, key: str) -> None:
        """Remember which send key a provider id belongs to (for status callbacks)."""
        self.client.set(self.keys.provider(provider_id), key, ex=self.ttl)

    def key_for_provider(self, provider_id: str) -> str | None:
        raw = self.client.get(self.keys.provider(provider_id))
        return None if raw is None else raw.decode() if isinstance(raw, bytes) else str(raw)

    def get(self, key: str) -> dict[str, str]:
        raw: dict[Any, Any] = self.client.hgetall(self.keys.delivery(key))
        return {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()
        }


def _describe(message: PlannedMessage) -> list[str | int]:
    return [
        "reference", message.reference,
        "kind", str(message.kind),
        "channel", str(message.channel),
        "version", message.version,
    ]
