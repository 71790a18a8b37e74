"""The hand-off: claimed schedule entries become ``send_message`` messages on Dramatiq's
``send`` queue and leave ``<prefix>:claimed``, a batch in one script
(``schedule_handoff``); claimed callback deliveries become ``deliver_callback`` messages
on the ``callbacks`` queue the same way.

The script writes what Dramatiq's ``RedisBroker.enqueue`` writes for an immediate message
(its ``dispatch.lua``: the encoded message under a fresh Redis id in
``<ns>:send.msgs``, that id pushed on the list ``<ns>:send``), the message encoded as
Dramatiq's default ``JSONEncoder`` encodes a ``Message``. That layout is Dramatiq's, not
the gateway's: ``pyproject.toml`` pins the Dramatiq versions it was checked against, and a
contract test has a real Dramatiq worker consume what the script wrote.

Only an entry still claimed is handed off, and its claim is acknowledged in the same
step. A scheduler killed before the step leaves its entries claimed until the lease
lapses; one killed after it has handed them off whole; a scheduler that stalled past its
lease, while another took the same entries and handed them off, finds nothing left to
hand.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence

from redis import Redis

from notifier.names import SEND_ACTOR, SEND_QUEUE, broker_namespace
from notifier.store.keys import Keys
from notifier.store.redis_store import RedisStore


def encoded_message(
    payload: str, *, queue: str, actor: str, message_id: str, redis_message_id: str,
    enqueued_ms: int,
) -> str:
    """The message of ``actor`` on ``queue`` for one claimed payload (a JSON value, kept as
    it is: the actor receives what ``json.loads`` makes of it), as Dramatiq's default
    ``JSONEncoder`` encodes ``Message(queue_name=queue, actor_name=actor, args=(payload,),
    kwargs={}, options={"redis_message_id": ...}, message_id=...,
    message_timestamp=...)``: its fields in that order, without spaces."""
    return (f'{{"queue_name":{json.dumps(queue)},"actor_name":{json.dumps(actor)},'
            f'"args":[{payload}],"kwargs":{{}},'
            f'"options":{{"redis_message_id":"{redis_message_id}"}},'
            f'"message_id":"{message_id}","message_timestamp":{enqueued_ms}}}')


def encoded_send_message(
    payload: str, *, message_id: str, redis_message_id: str, enqueued_ms: int
) -> str:
    """The ``send_message`` message for one claimed payload (see :func:`encoded_message`)."""
    return encoded_message(payload, queue=SEND_QUEUE, actor=SEND_ACTOR, message_id=message_id,
                           redis_message_id=redis_message_id, enqueued_ms=enqueued_ms)


class QueueHandoff(RedisStore):
    """Hands claimed entries to one actor's queue, each as that actor's one argument.

    Parameters (and :class:`RedisStore`'s):
      claimed: the sorted set the entries are claimed in.
      queue: the Dramatiq queue; the broker's namespace follows the key prefix
        (:func:`notifier.names.broker_namespace`), as ``build_broker`` makes it.
      actor: the actor's name.
    """

    def __init__(self, redis: Redis, *, keys: Keys, claimed: str, queue: str,
                 actor: str) -> None:
        super().__init__(redis, keys=keys)
        self.queue = queue
        self.actor = actor
        namespaced = f"{broker_namespace(keys.prefix)}:{queue}"
        self._script_keys = [claimed, namespaced, f"{namespaced}.msgs"]

    def hand_off(self, payloads: Sequence[str]) -> int:
        """Enqueue each claimed payload still claimed, and acknowledge it; returns how
        many were handed off."""
        if not payloads:
            return 0
        # A fresh id each, as Dramatiq gives each message and each enqueue of it; the
        # time is the wall clock's, as Dramatiq stamps a message.
        enqueued_ms = int(time.time() * 1000)
        args: list[str] = []
        for payload in payloads:
            redis_message_id = str(uuid.uuid4())
            args += (payload,
                     encoded_message(payload, queue=self.queue, actor=self.actor,
                                     message_id=str(uuid.uuid4()),
                                     redis_message_id=redis_message_id,
                                     enqueued_ms=enqueued_ms),
                     redis_message_id)
        return int(self.script("schedule_handoff")(keys=self._script_keys, args=args))


class SendHandoff(QueueHandoff):
    """Hands claimed schedule entries to the ``send`` queue.

    Parameters: :class:`RedisStore`'s.
    """

    def __init__(self, redis: Redis, *, keys: Keys) -> None:
        super().__init__(redis, keys=keys, claimed=keys.claimed, queue=SEND_QUEUE,
                         actor=SEND_ACTOR)
