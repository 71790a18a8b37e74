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
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from notifier.store.decoding import optional_text, text_list, text_map
from notifier.store.redis_store import RedisStore

# Deliveries read to count them per endpoint: a few milliseconds of Redis's time.
PER_ENDPOINT_MOST = 10_000


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


@dataclass(frozen=True)
class EndpointCounts:
    """Deliveries per endpoint id.

    Parameters:
      waiting: deliveries on the schedule (due now or later), per endpoint.
      dead: deliveries given up, per endpoint.
      complete: False when there were more deliveries than were read: the counts are
        then lower bounds.
    """

    waiting: dict[str, int]
    dead: dict[str, int]
    complete: bool


def _by_endpoint(deliveries: Iterable[str]) -> dict[str, int]:
    return dict(Counter(delivery_parts(delivery)[0] for delivery in deliveries))


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

    def claim(self, now: dt.datetime, *, lease: dt.timedelta, limit: int, most: int,
              recheck: dt.timedelta) -> list[str]:
        """Take up to ``limit`` due deliveries, leased until ``now + lease`` (a claim that
        lapses is taken again). A delivery whose endpoint has ``most`` attempts in flight
        stays due, looked at again after ``recheck``."""
        raw = self.script("callback_claim")(
            keys=[self.keys.callbacks_claimed, self.keys.callbacks_due],
            args=[now.timestamp(), (now + lease).timestamp(), limit,
                  self.keys.endpoint(""), most, (now + recheck).timestamp()],
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
        """What ``endpoint`` answered lately (see :class:`EndpointHealth`)."""
        return self.healths([endpoint])[endpoint]

    def healths(self, endpoints: Iterable[str]) -> dict[str, EndpointHealth]:
        """:meth:`health` of each of ``endpoints``, in one round trip."""
        ids = list(endpoints)
        with self.redis.pipeline(transaction=False) as pipe:
            for endpoint in ids:
                pipe.hgetall(self.keys.endpoint_health(endpoint))
                pipe.zcard(self.keys.endpoint_busy(endpoint))
            replies = pipe.execute()
        found = {}
        for endpoint, raw, busy in zip(ids, replies[::2], replies[1::2], strict=True):
            fields = text_map(raw)
            found[endpoint] = EndpointHealth(
                delivered=int(fields.get("delivered", 0)), failed=int(fields.get("failed", 0)),
                last_at=fields.get("last_at"), last_answer=fields.get("last_answer"),
                failing_since=fields.get("failing_since"), busy=max(0, int(busy or 0)),
            )
        return found

    def tested(self, endpoint: str, *, answer: str, accepted: bool, now: dt.datetime) -> None:
        """Record what ``endpoint`` answered an operator's test event: its last answer, and,
        when it ``accepted`` it, that it is failing no more (so that the next failure
        starts the count towards suspension afresh). Counts no delivery."""
        key = self.keys.endpoint_health(endpoint)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"last_at": now.isoformat(), "last_answer": answer})
            if accepted:
                pipe.hdel(key, "failing_since", "failing_since_epoch")
            pipe.execute()

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

    def dead_count(self) -> int:
        """Deliveries given up and not recovered."""
        return int(self.redis.zcard(self.keys.callbacks_dead))

    def per_endpoint(self, *, most: int = PER_ENDPOINT_MOST) -> EndpointCounts:
        """Deliveries waiting and given up, counted per endpoint (two round trips, each
        reading at most ``most`` deliveries: the schedule keeps no count per endpoint)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for key in (self.keys.callbacks_due, self.keys.callbacks_dead):
                pipe.zcard(key)
                pipe.zrange(key, 0, most - 1)
            due_size, due, dead_size, dead = pipe.execute()
        return EndpointCounts(waiting=_by_endpoint(text_list(due)),
                              dead=_by_endpoint(text_list(dead)),
                              complete=int(due_size) <= most and int(dead_size) <= most)

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

    def forget(self, deliveries: Iterable[str]) -> int:
        """Drop given-up ``deliveries`` for good (their endpoint is gone); returns how
        many were given up."""
        chosen = list(deliveries)
        return int(self.redis.zrem(self.keys.callbacks_dead, *chosen)) if chosen else 0
