"""The hand-off: claimed schedule entries become ``send_message`` messages on Dramatiq's
``send`` queue and leave ``<prefix>:claimed``, a batch in one script
(``schedule_handoff``).

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

# Dramatiq's JSONEncoder writes a Message's fields in this order, without spaces.
_HEAD = (f'{{"queue_name":{json.dumps(SEND_QUEUE)},"actor_name":{json.dumps(SEND_ACTOR)},'
         f'"args":[')


def encoded_send_message(
    payload: str, *, message_id: str, redis_message_id: str, enqueued_ms: int
) -> str:
    """The ``send_message`` message for one claimed payload (a JSON object, kept as it
    is: the actor receives what ``json.loads`` makes of it), as Dramatiq encodes
    ``Message(queue_name="send", actor_name="send_message", args=(payload,), kwargs={},
    options={"redis_message_id": ...}, message_id=..., message_timestamp=...)``."""
    return (f'{_HEAD}{payload}],"kwargs":{{}},'
            f'"options":{{"redis_message_id":"{redis_message_id}"}},'
            f'"message_id":"{message_id}","message_timestamp":{enqueued_ms}}}')


class SendHandoff(RedisStore):
    """Hands claimed entries to the workers.

    Parameters: :class:`RedisStore`'s; the broker's namespace follows the key prefix
    (:func:`notifier.names.broker_namespace`), as ``build_broker`` makes it.
    """

    def __init__(self, redis: Redis, *, keys: Keys) -> None:
        super().__init__(redis, keys=keys)
        queue = f"{broker_namespace(keys.prefix)}:{SEND_QUEUE}"
        self._script_keys = [keys.claimed, queue, f"{queue}.msgs"]

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
                     encoded_send_message(payload, message_id=str(uuid.uuid4()),
                                          redis_message_id=redis_message_id,
                                          enqueued_ms=enqueued_ms),
                     redis_message_id)
        return int(self.script("schedule_handoff")(keys=self._script_keys, args=args))
