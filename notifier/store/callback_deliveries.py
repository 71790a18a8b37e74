"""Callback deliveries on the gateway's own durable schedule: which event goes to which
endpoint, when, how many tries it has had, and which were given up.

A delivery is named ``<endpoint id>|<event id>``, kept as a JSON string (the form the
hand-off puts in a Dramatiq message's arguments). It is fanned out from the callback log
(:meth:`CallbackDeliveries.fan_out`), claimed when due and handed to the ``callbacks``
queue (:meth:`claim`, then :class:`notifier.store.handoff.QueueHandoff`), and after each
attempt rescheduled, given up or forgotten (:meth:`attempted`): never kept in Dramatiq's
delayed messages, so a retry three days out survives anything Redis survives.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass

from notifier.store.decoding import optional_text, text_list, text_map
from notifier.store.redis_store import RedisStore


def delivery_name(endpoint: str, event_id: str) -> str:
    """The delivery of event ``event_id`` to ``endpoint``, as the schedule keeps it."""
    return json.dumps(f"{endpoint}|{event_id}")


def delivery_parts(delivery: str) -> tuple[str, str]:
    """The endpoint id and the event id a delivery names."""
    endpoint, _, event_id = json.loads(delivery).partition("|")
    return endpoint, event_id


class Fate(enum.StrEnum):
    """What became of a delivery (see ``scripts/callback_attempted.lua``)."""

    WAIT = "wait"
    DROPPED = "dropped"
    SHELVED = "shelved"
    DELIVERED = "delivered"
    GONE = "gone"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True)
class EndpointHealth:
    """What the gateway knows of an endpoint's recent answers.

    Parameters:
      delivered: callbacks it took.
      failed: attempts it failed.
      last_at: when it last answered (or failed to).
      last_answer: its last HTTP status, or why no answer came.
      failing_since: since when it has failed every attempt (None when it is not
        failing).
      busy: attempts in flight to it now (a place a dead worker left counts until it
        lapses).
    """

    delivered: int
    failed: int
    last_at: str | None
    last_answer: str | None
    failing_since: str | None
    busy: int


class CallbackDeliveries(RedisStore):
    """The callbacks' schedule (built as a :class:`RedisStore`)."""

    def cursor(self) -> str | None:
        """The last callback log entry fanned out (None before the first)."""
        return optional_text(self.redis.get(self.keys.callbacks_cursor))

    def fan_out(self, *, read_cursor: str | None, last: str, deliveries: Iterable[str],
                due: dt.datetime) -> bool:
        """Schedule ``deliveries`` at ``due`` and move the cursor to ``last``, only if it is
        still ``read_cursor``; False when another scheduler fanned these entries out."""
        added = self.script("callback_fanout")(
            keys=[self.keys.callbacks_cursor, self.keys.callbacks_due],
            args=[read_cursor or "", last, due.timestamp(), *deliveries],
        )
        return int(added) >= 0

    def claim(self, now: dt.datetime, *, lease: dt.timedelta, limit: int) -> list[str]:
        """Take up to ``limit`` due deliveries, leased until ``now + lease`` (a claim that
        lapses is taken again)."""
        raw = self.script("callback_claim")(
            keys=[self.keys.callbacks_claimed, self.keys.callbacks_due],
            args=[now.timestamp(), (now + lease).timestamp(), limit],
        )
        return text_list(raw)

    def take_place(self, endpoint: str, attempt: str, *, most: int, now: dt.datetime,
                   for_at_most: dt.timedelta) -> bool:
        """Take a place for ``attempt`` (a unique id) among ``endpoint``'s attempts in
        flight (at most ``most``); False when all are taken. A place a dead worker never
        gave back lapses after ``for_at_most``."""
        return bool(self.script("callback_busy")(
            keys=[self.keys.endpoint_busy(endpoint)],
            args=[attempt, most, now.timestamp(), (now + for_at_most).timestamp()],
        ))

    def attempted(
        self, delivery: str, fate: Fate, *, now: dt.datetime, answer: str = "",
        due: dt.datetime | None = None, suspend_after: dt.timedelta, attempt: str = "",
    ) -> bool:
        """Record what became of ``delivery`` (see :class:`Fate`); ``due``: when it is due
        again, for ``RETRY`` and ``WAIT``; ``attempt``: the id whose place in flight is
        given back. Returns True when its endpoint has now been failing for
        ``suspend_after`` or longer."""
        endpoint, _ = delivery_parts(delivery)
        failing_too_long = self.script("callback_attempted")(
            keys=[self.keys.callbacks_due, self.keys.callbacks_tries, self.keys.callbacks_dead,
                  self.keys.endpoint_health(endpoint), self.keys.endpoint_busy(endpoint)],
            args=[delivery, str(fate), due.timestamp() if due else "", now.isoformat(), answer,
                  int(suspend_after.total_seconds()), now.timestamp(), attempt],
        )
        return bool(failing_too_long)

    def tries(self, delivery: str) -> int:
        """The failed attempts of ``delivery`` so far."""
        return int(self.redis.hget(self.keys.callbacks_tries, delivery) or 0)

    def health(self, endpoint: str) -> EndpointHealth:
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.keys.endpoint_health(endpoint))
            pipe.zcard(self.keys.endpoint_busy(endpoint))
            raw, busy = pipe.execute()
        fields = text_map(raw)
        return EndpointHealth(
            delivered=int(fields.get("delivered", 0)), failed=int(fields.get("failed", 0)),
            last_at=fields.get("last_at"), last_answer=fields.get("last_answer"),
            failing_since=fields.get("failing_since"), busy=max(0, int(busy or 0)),
        )

    def backlog(self, now: dt.datetime) -> tuple[int, dt.datetime | None]:
        """Deliveries waiting (due or not) and when the oldest due one fell due (None when
        none is due)."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcard(self.keys.callbacks_due)
            pipe.zrangebyscore(self.keys.callbacks_due, "-inf", now.timestamp(), start=0,
                               num=1, withscores=True)
            waiting, oldest = pipe.execute()
        first = dt.datetime.fromtimestamp(float(oldest[0][1]), dt.UTC) if oldest else None
        return int(waiting), first

    def dead(self, *, since: dt.datetime) -> list[str]:
        """Deliveries given up at ``since`` or later, oldest first."""
        return text_list(self.redis.zrangebyscore(self.keys.callbacks_dead, since.timestamp(),
                                                  "+inf"))

    def recover(self, deliveries: Iterable[str], *, due: dt.datetime) -> int:
        """Schedule given-up ``deliveries`` again at ``due``, with a fresh set of retries;
        returns how many were given up and are scheduled now."""
        recovered = 0
        for delivery in deliveries:
            # Only this moves a delivery out of the dead set: one that is no longer there
            # was recovered by another operator already.
            if self.redis.zrem(self.keys.callbacks_dead, delivery):
                with self.redis.pipeline(transaction=True) as pipe:
                    pipe.zadd(self.keys.callbacks_due, {delivery: due.timestamp()})
                    pipe.hdel(self.keys.callbacks_tries, delivery)
                    pipe.execute()
                recovered += 1
        return recovered
