"""An appointment's story: every event received and every message decided, in order.

Lines hold codes, kinds, channels, versions and times: never a name, phone or email.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from redis import Redis

from notifier.store.keys import Keys
from notifier.store.redis_store import RedisStore

# The story of one appointment rarely exceeds a few dozen lines; the cap bounds a
# runaway booking system without losing anything an operator would look for.
MAX_LINES = 500


def packed_line(line: Mapping[str, Any]) -> str:
    """One story line as the list holds it (compact JSON); the scripts that write a line
    in their own step take it so."""
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


class History(RedisStore):
    """Append-only story per appointment.

    Parameters (and :class:`RedisStore`'s):
      retention: how long a story is kept after its last line.
    """

    def __init__(self, redis: Redis, *, keys: Keys, retention: dt.timedelta) -> None:
        super().__init__(redis, keys=keys)
        self.retention = retention

    def stage(self, pipe: Any, reference: str, line: dict[str, Any]) -> None:
        key = self.keys.history(reference)
        pipe.rpush(key, packed_line(line))
        pipe.ltrim(key, -MAX_LINES, -1)
        pipe.expire(key, self.retention)

    def append(self, reference: str, line: dict[str, Any]) -> None:
        """Append one line now (its own round trip; see :meth:`stage` to share one)."""
        with self.redis.pipeline(transaction=False) as pipe:
            self.stage(pipe, reference, line)
            pipe.execute()

    def read(self, reference: str) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self.redis.lrange(self.keys.history(reference), 0, -1)]
