"""Acknowledged means replicated: a write the gateway is about to acknowledge to someone
outside waits until a replica holds it.

Redis replicates asynchronously: a primary that dies right after answering takes its
last writes with it, and the replica promoted in its place never had them. Three writes
are promises to someone outside, so each waits for ``WAIT`` before the promise is made:

- an accepted event (the booking system's answer);
- an opt-out or opt-in change (the patient's confirmation, the operator's page);
- a delivery record's move to ``submitting``, right before a provider is called (after a
  failover, the send step must still know it may have sent, and ask before sending again).

``WAIT`` counts the replicas that hold every write *this connection* made, so the write
and its ``WAIT`` travel in one pipeline, on one connection, with a marker written between
them: replication is one ordered stream, so a replica that holds the marker holds
everything the primary had before it, including a change found already made (a repeated
event's stored answer, an opt-out sent twice).

When fewer replicas than required confirm in time, the write is logged as unconfirmed
and a ``redis.ConnectionError`` is raised: every caller already answers those as Redis
being down (503 and a ``Retry-After`` to a booking system, a retry for a send), and a
repeat of the request finds the write made and waits for it again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from redis import ConnectionError as RedisConnectionError
from redis import Redis
from redis.client import Pipeline
from redis.commands.core import Script
from redis.exceptions import NoScriptError

from notifier.settings import Settings
from notifier.store.keys import Keys

log = logging.getLogger(__name__)

# What ``auto`` came to, per client: asked of Redis once, on the first write that needs it.
_AUTO: WeakKeyDictionary[Redis, int] = WeakKeyDictionary()


class Replication:
    """Runs acknowledged writes and waits for their replicas.

    Parameters:
      redis: the client the writes go through.
      replicas: how many replicas must confirm; None (``auto``): 1 through Sentinel, else 1
        when the primary has a replica connected the first time it is asked, else 0.
      timeout: how long to wait for them.
      mark_key: the counter written before each ``WAIT``.
      sentinel: whether the client finds its primary through Sentinel.
    """

    def __init__(
        self, redis: Redis, *, replicas: int | None, timeout: dt.timedelta, mark_key: str,
        sentinel: bool = False,
    ) -> None:
        self.redis = redis
        self.replicas = replicas
        self.timeout_ms = max(1, int(timeout.total_seconds() * 1000))
        self.mark_key = mark_key
        self.sentinel = sentinel

    @classmethod
    def of(cls, redis: Redis, settings: Settings) -> Replication:
        """The deployment's policy (``NOTIFIER_REDIS_WAIT_REPLICAS`` and ``_TIMEOUT``)."""
        return cls(redis, replicas=settings.redis_wait_replicas,
                   timeout=settings.redis_wait_timeout,
                   mark_key=Keys(settings.queue_prefix).replication_mark,
                   sentinel=bool(settings.redis_sentinels))

    def required(self) -> int:
        """How many replicas must confirm an acknowledged write."""
        if self.replicas is not None:
            return self.replicas
        if self.sentinel:
            return 1
        found = _AUTO.get(self.redis)
        if found is None:
            connected = int(self.redis.info("replication").get("connected_slaves", 0))
            found = _AUTO[self.redis] = 1 if connected else 0
        return found

    def run(self, script: Script, *, keys: Sequence[Any], args: Sequence[Any],
            unconfirmed: Callable[[Any], object] | None = None) -> Any:
        """Run ``script`` and, on the same connection, wait for the required replicas;
        returns its reply. When too few confirm, ``unconfirmed`` is given the reply
        before ``redis.ConnectionError`` is raised.

        With no replica required it is one plain script call. Otherwise the script goes
        by its SHA1 in a pipeline with the marker and the ``WAIT`` (one round trip); a
        Redis that does not know it yet (a new primary) is given it, and the pipeline is
        sent again."""
        reply, _ = self.run_then_read(script, keys=keys, args=args, unconfirmed=unconfirmed)
        return reply

    def run_then_read(
        self, script: Script, *, keys: Sequence[Any], args: Sequence[Any],
        read: Callable[[Pipeline], object] | None = None,
        unconfirmed: Callable[[Any], object] | None = None,
    ) -> tuple[Any, Any]:
        """:meth:`run`, then the command ``read`` adds, sent in the same round trip but
        run by Redis once the ``WAIT`` is over: what changed while the write waited for
        its replicas. Returns the script's reply and the read's (None when no replica is
        required: there was no wait)."""
        needed = self.required()
        if not needed:
            return script(keys=keys, args=args), None
        for _ in range(2):
            reply, confirmed, after = self._waited(
                lambda pipe: pipe.evalsha(script.sha, len(keys), *keys, *args), needed, read)
            if not isinstance(reply, NoScriptError):
                break
            self.redis.script_load(script.script)
        for found in (reply, after):
            if isinstance(found, Exception):
                raise found
        if confirmed < needed:
            if unconfirmed is not None:
                unconfirmed(reply)
            raise self._unconfirmed(confirmed, needed)
        return reply, after

    def confirm(self, key: str) -> None:
        """Wait until the replicas hold ``key``, a write found already made and about to be
        acknowledged again (a key gone from the primary since it was read, as after a
        failover, raises ``redis.ConnectionError`` too)."""
        needed = self.required()
        if not needed:
            return
        exists, confirmed, _ = self._waited(lambda pipe: pipe.exists(key), needed)
        if isinstance(exists, Exception):
            raise exists
        if not exists:
            log.warning("a write read a moment ago is gone from the Redis primary (a "
                        "failover lost it): answered as if Redis were down")
            raise RedisConnectionError("a write read a moment ago is gone from the primary")
        if confirmed < needed:
            raise self._unconfirmed(confirmed, needed)

    def _waited(self, command: Callable[[Pipeline], object], needed: int,
                read: Callable[[Pipeline], object] | None = None) -> tuple[Any, int, Any]:
        """``command``'s reply (an error as a value), how many replicas confirmed it, and
        ``read``'s reply. The marker between them makes the ``WAIT`` also cover what the
        command found already written, by this connection or another; Redis runs
        ``read`` only once the ``WAIT`` is over (a waiting client's next command waits)."""
        with self.redis.pipeline(transaction=False) as pipe:
            command(pipe)
            pipe.incr(self.mark_key)
            pipe.wait(needed, self.timeout_ms)
            if read is not None:
                read(pipe)
            replies = pipe.execute(raise_on_error=False)
        reply, _, confirmed = replies[:3]
        if isinstance(confirmed, Exception):
            raise confirmed
        return reply, int(confirmed), replies[3] if read is not None else None

    def _unconfirmed(self, confirmed: int, needed: int) -> RedisConnectionError:
        log.warning(
            "only %d of the %d Redis replicas required confirmed a write within %d ms: "
            "answered as if Redis were down; check the replicas' links (notifier status) "
            "or lower NOTIFIER_REDIS_WAIT_REPLICAS", confirmed, needed, self.timeout_ms)
        return RedisConnectionError(
            f"{confirmed} of {needed} replicas confirmed the write within {self.timeout_ms} ms")
