"""The durable schedule: planned messages wait in Redis until they are due.

Long waits (reminders days ahead) are kept out of Dramatiq's delay queue, which holds
delayed messages in worker memory in FIFO order, not by due time: a short retry would wait
behind reminders due days later, and a killed worker's held messages come back only after
its heartbeat times out. Here:

- ``<prefix>:pending:<reference>`` (hash) holds each appointment's planned messages by
  slot until they are handed off, each as its packed value
  (:meth:`PlannedMessage.pending_value`: the slot says the rest);
- ``<prefix>:schedule:<channel>`` (sorted sets) order the slots by due time;
- ``<prefix>:claimed`` (sorted set) holds messages a scheduler took but has not yet
  confirmed as handed to Dramatiq, scored by when that claim lapses; each is the packed
  value with its slot in front (:meth:`PlannedMessage.to_json`), joined by the claim.

Entries written before values were packed (the verbose JSON of
:meth:`PlannedMessage.to_dict`) are claimed, handed off and read as they are.

A scheduler killed between claim and hand-off loses nothing: once the claim lapses, any
scheduler claims the message again. The hand-off (:mod:`notifier.store.handoff`) takes
only messages still claimed, so none is handed off twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

from redis import Redis

from notifier.planning.entries import PlannedMessage
from notifier.store.decoding import text_list
from notifier.store.keys import Keys
from notifier.store.redis_store import RedisStore


def epoch(at: dt.datetime) -> float:
    return at.timestamp()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def slot_channel(slot: str) -> str:
    """The channel named in a slot (``reference:kind:channel[:offset]``)."""
    return slot.split(":")[2]


class Schedule(RedisStore):
    """Planned messages waiting in Redis.

    Parameters (and :class:`RedisStore`'s):
      lease: how long a claim protects a message before another scheduler may take it.
    """

    def __init__(self, redis: Redis, *, keys: Keys, lease: dt.timedelta) -> None:
        super().__init__(redis, keys=keys)
        self.lease = lease

    def stage_changes(
        self,
        pipe: Any,
        reference: str,
        *,
        upserts: Iterable[PlannedMessage],
        removals: Iterable[str],
        expire_at: dt.datetime,
    ) -> None:
        """Queue, on a MULTI pipeline, the writes that replace an appointment's entries."""
        pending = self.keys.pending(reference)
        gone = list(removals)
        if gone:
            pipe.hdel(pending, *gone)
            for slot in gone:
                pipe.zrem(self.keys.schedule(slot_channel(slot)), slot)
        messages = list(upserts)
        if messages:
            pipe.hset(pending, mapping={m.slot: m.pending_value() for m in messages})
            for m in messages:
                pipe.zadd(self.keys.schedule(m.channel), {m.slot: epoch(m.send_at)})
            pipe.expireat(pending, expire_at)

    def pending(self, reference: str) -> list[PlannedMessage]:
        held = self.redis.hgetall(self.keys.pending(reference))
        return sorted((PlannedMessage.from_pending(_text(slot), raw) for slot, raw in held.items()),
                      key=lambda m: m.send_at)

    def claim(self, now: dt.datetime, *, limit: int = 500) -> list[str]:
        """Take up to ``limit`` due messages (their claimed entries, JSON), leased until
        ``now + lease``."""
        raw = self.script("schedule_claim")(
            keys=[self.keys.claimed, *self.keys.schedules],
            args=[epoch(now), epoch(now + self.lease), limit, self.keys.pending_prefix],
        )
        return text_list(raw)

    def ack(self, payloads: Iterable[str]) -> None:
        """Drop claims on messages handed to Dramatiq some other way (the scheduler's
        hand-off drops its own claims in the same step)."""
        batch = list(payloads)
        if batch:
            self.redis.zrem(self.keys.claimed, *batch)

    def defer(self, message: PlannedMessage, until: dt.datetime) -> bool:
        """Put a message back for later (outside its window now); False if a newer plan
        already holds its slot."""
        moved = dataclasses.replace(message, send_at=until)
        return bool(
            self.script("schedule_defer")(
                keys=[self.keys.pending(message.reference),
                      self.keys.schedule(message.channel)],
                args=[moved.slot, moved.pending_value(), epoch(until)],
            )
        )

    def size(self) -> int:
        with self.redis.pipeline(transaction=False) as pipe:
            for key in self.keys.schedules:
                pipe.zcard(key)
            return sum(int(n) for n in pipe.execute())

    def claimed_count(self) -> int:
        return int(self.redis.zcard(self.keys.claimed))

    def next_due(self) -> dt.datetime | None:
        with self.redis.pipeline(transaction=False) as pipe:
            for key in self.keys.schedules:
                pipe.zrange(key, 0, 0, withscores=True)
            firsts = [float(first[0][1]) for first in pipe.execute() if first]
        return dt.datetime.fromtimestamp(min(firsts), dt.UTC) if firsts else None
