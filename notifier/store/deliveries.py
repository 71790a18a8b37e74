"""The delivery log: one record per send key, whose status only moves forward (the order
of :mod:`notifier.delivery_status`). Records expire after the retention period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import redis

from notifier.delivery_status import RANK, DeliveryStatus
from notifier.planning.entries import PlannedMessage
from notifier.planning.reasons import Reason
from notifier.store.keys import Keys

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


# KEYS: attempt lock, record. ARGV: lock ttl ms.
_LOCK_AND_READ = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return false
end
return redis.call('HGETALL', KEYS[2])
"""

# KEYS: record. ARGV: now, who, ttl seconds.
_REOPEN = f"""
local status = redis.call('HGET', KEYS[1], 'status')
local reason = redis.call('HGET', KEYS[1], 'reason')
if status ~= 'failed'
   or (reason ~= '{Reason.RETRIES_EXHAUSTED}' and reason ~= '{Reason.INTERRUPTED}') then
  return 0
end
redis.call('HSET', KEYS[1], 'status', 'retrying', 'updated_at', ARGV[1],
           'reopened_at', ARGV[1], 'reopened_by', ARGV[2])
redis.call('HDEL', KEYS[1], 'ambiguous', 'failures')
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
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
        self._reopen = client.register_script(_REOPEN)
        self._lock_and_read = client.register_script(_LOCK_AND_READ)

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

    def count_failure(self, key: str) -> int:
        """Count one more failed try of ``key`` (a create or a look-up the provider failed)
        and return how many there were: it sets the next retry's delay."""
        return int(self.client.hincrby(self.keys.delivery(key), "failures", 1))

    def reopen(self, key: str, now: dt.datetime, *, by: str) -> bool:
        """An operator sends a message again after the gateway gave up on it (every retry
        used, or an interrupted attempt it would not repeat): the record goes back to
        ``retrying``. The one move backwards, and only from those two failures."""
        return bool(self._reopen(keys=[self.keys.delivery(key)],
                                 args=[now.isoformat(), by, self.ttl]))

    def lock_and_read(self, key: str, *, ttl: dt.timedelta) -> dict[str, str] | None:
        """Take the right to attempt ``key`` now and read its record; None while another
        worker holds it.

        The lock outlives the longest legitimate attempt; a worker killed mid-send lets
        it lapse, after which the record shows ``submitting``: an interrupted attempt.
        """
        ms = int(ttl.total_seconds() * 1000)
        raw = self._lock_and_read(keys=[self.keys.attempt_lock(key), self.keys.delivery(key)],
                                  args=[ms])
        if raw is None:
            return None
        flat = [text(item) for item in raw]
        return dict(zip(flat[::2], flat[1::2], strict=True))

    def unlock_attempt(self, key: str) -> None:
        self.client.delete(self.keys.attempt_lock(key))

    def stage_advance(
        self, pipe: Any, key: str, status: DeliveryStatus, now: dt.datetime,
        fields: Mapping[str, str | int],
    ) -> None:
        """:meth:`advance` queued on a pipeline (its answer is not needed)."""
        pairs: list[str | int] = [item for pair in fields.items() for item in pair]
        hour = now.astimezone(dt.UTC).strftime("%Y%m%d%H")
        self._advance(keys=[self.keys.delivery(key), self.keys.stats(hour)],
                      args=[str(status), now.isoformat(), self.ttl, STATS_TTL_SECONDS, *pairs],
                      client=pipe)

    def stage_link_provider(self, pipe: Any, provider_id: str, key: str) -> None:
        """Remember which send key a provider id belongs to (for status callbacks)."""
        pipe.set(self.keys.provider(provider_id), key, ex=self.ttl)

    def link_provider(self, provider_id: str, key: str) -> None:
        self.stage_link_provider(self.client, provider_id, key)

    def key_for_provider(self, provider_id: str) -> str | None:
        raw = self.client.get(self.keys.provider(provider_id))
        return None if raw is None else raw.decode() if isinstance(raw, bytes) else str(raw)

    def get(self, key: str) -> dict[str, str]:
        return decode_record(self.client.hgetall(self.keys.delivery(key)))


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def decode_record(raw: Mapping[Any, Any]) -> dict[str, str]:
    return {text(k): text(v) for k, v in raw.items()}


def _describe(message: PlannedMessage) -> list[str | int]:
    return [
        "reference", message.reference,
        "kind", str(message.kind),
        "channel", str(message.channel),
        "version", message.version,
    ]
